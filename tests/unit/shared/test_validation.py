"""Schema field types: one address is one address, booleans are booleans, zones are zones."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from stopclock_shared.validation import EmailAddress, Int32, LocaleName, StrictBool, TimeZoneName


class Person(BaseModel):
    email: EmailAddress | None = None
    vip: StrictBool = False
    timezone: TimeZoneName = "UTC"
    locale: LocaleName = "en"
    order: Int32 = 0


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("alice@example.com", "alice@example.com"),
        ("Alice.Durand@Example.COM", "Alice.Durand@example.com"),
        ("bob+tickets@mail.example.org", "bob+tickets@mail.example.org"),
        ("élodie@exemple.fr", "élodie@exemple.fr"),
        ("ann@corp.local", "ann@corp.local"),  # an intranet's Active Directory domain
        ("ada@example.test", "ada@example.test"),
    ],
)
def test_one_address_is_taken(given: str, kept: str) -> None:
    assert Person(email=given).email == kept


@pytest.mark.parametrize(
    "given",
    [
        "Alice <alice@example.com>",  # display name
        "alice@example.com, bob@example.com",  # a list
        "alice@example.com;bob@example.com",
        "undisclosed-recipients:;",  # a group
        "team: alice@example.com, bob@example.com;",
        "alice@example.com\r\nBcc: mallory@example.com",  # header injection
        "alice@example.com\nBcc: mallory@example.com",
        "alice@example.com (Alice)",  # a comment
        "alice",
        "@example.com",
        "alice@",
        "",
        "a" * 250 + "@example.com",
        "alice@exa mple.com",
        "alice\x00@example.com",
        "root@localhost",
    ],
)
def test_anything_but_one_address_is_refused(given: str) -> None:
    with pytest.raises(ValidationError):
        Person(email=given)


@pytest.mark.parametrize("given", ["yes", "true", 0, 1, "1", "on", None])
def test_booleans_are_booleans(given: object) -> None:
    with pytest.raises(ValidationError):
        Person(vip=given)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "given", ["Europe", "America/", "../etc/passwd", "x" * 5000, "", "Mars/Olympus"]
)
def test_time_zones_must_be_zones(given: str) -> None:
    with pytest.raises(ValidationError):
        Person(timezone=given)


def test_a_known_zone_and_locale_are_taken() -> None:
    person = Person(timezone="Europe/Paris", locale="fr", vip=True)
    assert (person.timezone, person.locale, person.vip) == ("Europe/Paris", "fr", True)


@pytest.mark.parametrize("given", ["fr-CA", "en_GB", "en"])
def test_a_region_of_a_language_we_write_in_is_a_locale(given: str) -> None:
    assert Person(locale=given).locale == given


@pytest.mark.parametrize("given", ["de", "de-BE", "EN", "", "fr-", "fr-CAN", "x" * 100])
def test_unknown_locales_are_refused(given: str) -> None:
    with pytest.raises(ValidationError):
        Person(locale=given)


@pytest.mark.parametrize("given", [2**31, -(2**31) - 1, 10**500], ids=["2^31", "-2^31-1", "10^500"])
def test_integers_beyond_their_column_are_refused(given: int) -> None:
    with pytest.raises(ValidationError):
        Person(order=given)
