"""The confirmation of a new ticket links to the sla policy page in the requester's language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stopclock_notification.domain.kinds import MailKind
from stopclock_notification.domain.rendering import render
from stopclock_shared.events.types import EventType

from . import factories as f

BASE = "https://sla.example.test/"


def _confirmation(locale: str, base: str = BASE) -> tuple[str, str]:
    ticket = f.ticket_snapshot(status="new", requester=f.person_ref(locale=locale))
    [mail] = f.plan_mails(
        EventType.TICKET_CREATED.value,
        f.ticket_created(ticket),
        event_id=f.new_id(),
        event_time=datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
        survey_base_url=f.SURVEY_BASE_URL,
        policy_base_url=base,
    )
    assert mail.kind == MailKind.TICKET_OPENED
    written = render(mail)
    return written.text, written.html


@pytest.mark.parametrize(
    ("locale", "lang", "words"),
    [
        ("en", "en", "exactly when the clock stops and restarts"),
        ("fr-CA", "fr", "exactement quand le chronomètre s'arrête et repart"),
        ("de", "en", "exactly when the clock stops and restarts"),
        ("", "en", "exactly when the clock stops and restarts"),
    ],
)
def test_the_confirmation_links_to_the_policy_page_in_its_language(
    locale: str, lang: str, words: str
) -> None:
    text, page = _confirmation(locale)
    url = f"https://sla.example.test/policy?lang={lang}"
    assert f"{words}: {url}" in text or f"{words} : {url}" in text
    assert f'href="{url}"' in page


def test_without_a_public_sla_url_the_confirmation_has_no_link() -> None:
    text, page = _confirmation("en", base="")
    assert "/policy" not in text
    assert "/policy" not in page
