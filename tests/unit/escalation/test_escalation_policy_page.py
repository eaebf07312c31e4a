"""The escalation policy page rendered from policies and calendars: words, order, escaping."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from typing import Any

import pytest

from stopclock_escalation.domain.default_policy import builtin_policy
from stopclock_escalation.domain.policy import ManagerEscalationRule, PolicyMatch
from stopclock_escalation.policy_page import PAGES, ladder_views

from .escalation_builders import DAY, HOUR, a_policy

OFFICE: dict[str, Any] = {
    "timezone": "Europe/Paris",
    "week": {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": {"country": "FR"},
}
TAG = re.compile(r"<[^>]+>")


def _visible(page: str) -> str:
    return " ".join(html.unescape(TAG.sub(" ", page)).split())


@pytest.mark.parametrize(
    ("locale", "reminders", "then"),
    [
        (
            "en",
            "If we are waiting for your answer, we send you a reminder by email after 8 working "
            "hours, then after 2 working days of waiting, counted Monday\u2013Friday "
            "08:00\u201318:00 Paris time, public holidays in France excepted.",
            "If we still have no answer 5 working hours after the last reminder:",
        ),
        (
            "fr",
            "Si nous attendons votre réponse, nous vous relançons par e-mail après 8 heures "
            "ouvrées, puis après 2 jours ouvrés d'attente, comptés du lundi au vendredi de "
            "08:00 à 18:00, heure de Paris, hors jours fériés en France.",
            "Si nous n'avons toujours pas de réponse 5 heures ouvrées après la dernière relance :",
        ),
    ],
)
def test_reminders_read_in_working_time_on_the_policy_s_calendar(
    locale: str, reminders: str, then: str
) -> None:
    policy = replace(a_policy(reminders=(8 * HOUR, 20 * HOUR), grace=5 * HOUR), calendar="office")
    [view] = ladder_views([policy], locale, {"office": OFFICE})
    assert (view.reminders, view.then) == (reminders, then)


def test_the_manager_rule_and_the_resolution_for_lack_of_response() -> None:
    blocked, anyone = (
        a_policy(rule=ManagerEscalationRule(requires_work_blocked=True)),
        replace(
            a_policy(grace=0, rule=ManagerEscalationRule(False, 3, 30)),
            name="any",
            order=1,
        ),
    )
    first, second = ladder_views([blocked, anyone], "en", {})
    assert first.name == "any"  # lower order first, as the matching tries them
    assert first.then == "If we still have no answer right after the last reminder:"
    assert first.manager.startswith(
        "if you have left at least 3 of our questions unanswered in the last 30 days, "
        "we contact your manager"
    )
    assert second.manager.startswith(
        "if the issue blocks your work and you have left at least 2 of our questions "
        "unanswered in the last 90 days, we contact your manager"
    )
    assert "resolve the ticket for lack of response" in second.otherwise
    assert "reopen it just by answering" in second.otherwise


def test_an_unknown_calendar_reads_as_around_the_clock_as_the_service_counts() -> None:
    policy = replace(a_policy(reminders=(DAY,)), calendar="forgotten")
    [view] = ladder_views([policy], "en", {})
    assert "after 1 day of waiting, counted around the clock." in view.reminders


def test_the_page_links_to_the_sla_page_and_escapes_a_hostile_policy() -> None:
    hostile = replace(
        builtin_policy("desk@example.com"),
        name="<script>alert(1)</script>",
        match=PolicyMatch(service='"><script>alert(2)</script>'),
    )
    page = PAGES.html(
        "policy.html.j2",
        "en",
        policies=ladder_views([hostile], "en", {}),
        sla_url="http://sla.test/policy?lang=en",
        other_url="?lang=fr",
        other_locale="fr",
    )
    assert "<script" not in page
    assert '<html lang="en">' in page
    assert 'href="http://sla.test/policy?lang=en"' in page
    text = _visible(page)
    assert 'All tickets for the service “"><script>alert(2)</script>”' in text
    assert "An automatic out-of-office reply never counts against you" in text
