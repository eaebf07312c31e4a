import pytest

from stopclock_survey.forms import form_token, form_token_ok, origin_of, same_site

SECRET = "s3cret"
SITE = {"http://127.0.0.1:8004", "https://survey.example.com"}


def test_the_form_token_of_a_survey_is_accepted_back() -> None:
    assert form_token_ok(SECRET, "link-token", form_token(SECRET, "link-token"))


@pytest.mark.parametrize(
    "presented",
    [
        None,
        "",
        form_token(SECRET, "another-link"),
        form_token("another-secret", "link-token"),
        "not hex at all ✓",
    ],
)
def test_a_form_token_made_for_anything_else_is_refused(presented: str | None) -> None:
    assert not form_token_ok(SECRET, "link-token", presented)


def test_the_form_token_does_not_reveal_the_link_token() -> None:
    assert "link-token" not in form_token(SECRET, "link-token")


@pytest.mark.parametrize(
    ("origin", "referer", "accepted"),
    [
        ("http://127.0.0.1:8004", None, True),
        ("HTTPS://survey.example.com", None, True),
        ("https://evil.example", None, False),
        ("https://evil.example", "http://127.0.0.1:8004/s/x", False),  # Origin decides
        (None, "http://127.0.0.1:8004/s/abc", True),
        (None, "https://evil.example/page", False),
        ("null", None, True),  # privacy modes: the form token still has to match
        (None, None, True),
    ],
)
def test_a_form_sent_from_another_site_is_refused(
    origin: str | None, referer: str | None, accepted: bool
) -> None:
    assert same_site(origin, referer, SITE) is accepted


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:8004/s/abc?rating=4", "http://127.0.0.1:8004"),
        ("https://Survey.Example.com", "https://survey.example.com"),
        ("/s/abc", None),
    ],
)
def test_the_origin_of_a_url_is_its_scheme_and_host(url: str, origin: str | None) -> None:
    assert origin_of(url) == origin
