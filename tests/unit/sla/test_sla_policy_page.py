"""The sla policy page rendered from policies and calendars: order, words, escaping."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

import pytest

from stopclock_sla.domain import SlaPolicy, policy_from_spec
from stopclock_sla.domain.defaults import ALWAYS_SPEC, default_policy_specs
from stopclock_sla.domain.policy import PolicyMatch, Target
from stopclock_sla.policy_page import PAGES, policy_views
from stopclock_sla.use_cases import PublishedPolicies

OFFICE: dict[str, Any] = {
    "timezone": "Europe/Paris",
    "week": {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": {"country": "FR"},
}
CALENDARS: dict[str, Mapping[str, object]] = {"24x7": ALWAYS_SPEC, "office": OFFICE}
TAG = re.compile(r"<[^>]+>")


def _policy(name: str, spec: dict[str, Any]) -> SlaPolicy:
    return policy_from_spec(name, spec, version=1, calendars=None)


def _p1_office(order: int = 10) -> SlaPolicy:
    return _policy(
        "p1-office",
        {
            "match": {"type": "incident", "priority": "P1"},
            "order": order,
            "warn_at": [0.5, 0.75, 0.9],
            "targets": {
                "first_response": {
                    "seconds": 900,
                    "calendar": "24x7",
                    "pause_reasons": ["info_requested"],
                },
                "resolution": {"seconds": 4 * 3600, "calendar": "office"},
            },
        },
    )


def _page(policies: list[SlaPolicy], locale: str) -> str:
    views = policy_views(PublishedPolicies(policies, CALENDARS), locale)
    return PAGES.html(
        "policy.html.j2",
        locale,
        policies=views,
        escalation_url="http://esc.test/policy?lang=" + locale,
        other_url="?lang=fr",
        other_locale="fr",
    )


def _visible(page: str) -> str:
    return " ".join(html.unescape(TAG.sub(" ", page)).split())


@pytest.mark.parametrize(
    ("locale", "resolution", "first"),
    [
        (
            "en",
            "We resolve P1 incidents within 4 working hours, Monday\u2013Friday "
            "08:00\u201318:00 Paris time, public holidays in France excepted.",
            "We first respond to P1 incidents within 15 minutes, around the clock.",
        ),
        (
            "fr",
            "Nous résolvons les incidents P1 dans un délai de 4 heures ouvrées, du lundi au "
            "vendredi de 08:00 à 18:00, heure de Paris, hors jours fériés en France.",
            "Nous apportons une première réponse pour les incidents P1 dans un délai de 15 "
            "minutes, 24 heures sur 24, 7 jours sur 7.",
        ),
    ],
)
def test_each_target_reads_in_human_units_on_its_hours(
    locale: str, resolution: str, first: str
) -> None:
    [view] = policy_views(PublishedPolicies([_p1_office()], CALENDARS), locale)
    assert [t.sentence for t in view.targets] == [first, resolution]


def test_a_target_narrowed_to_some_reasons_lists_only_those() -> None:
    [view] = policy_views(PublishedPolicies([_p1_office()], CALENDARS), "en")
    first, resolution = view.targets
    assert first.stops == ["we have asked you for information"]
    assert resolution.stops == [
        "we have asked you for information",
        "we have asked you to check that a fix works",
        "we are waiting for your reply",
    ]


def test_policies_are_listed_in_the_order_matching_tries_them() -> None:
    defaults = [_policy(n, s) for n, s in default_policy_specs().items()]
    views = policy_views(PublishedPolicies([*defaults, _p1_office(order=5)], CALENDARS), "en")
    assert [v.name for v in views] == [
        "p1-office",
        "default-p1",
        "default-p2",
        "default-p3",
        "default-p4",
    ]


def test_the_page_says_the_clock_stops_and_restarts_and_the_warning_points() -> None:
    english = _visible(_page([_p1_office()], "en"))
    french = _visible(_page([_p1_office()], "fr"))
    assert "The clock stops while we wait for you" in english
    assert "It restarts the moment you answer" in english
    assert "alerted when 50%, 75% and 90% of the time" in english
    assert "Le chronomètre s'arrête pendant que nous vous attendons" in french
    assert "Il repart dès que vous répondez" in french
    assert "alerté quand 50 %, 75 % et 90 % du temps" in french


def test_a_hostile_policy_is_escaped_and_odd_values_still_read() -> None:
    hostile = SlaPolicy(
        name='<script>alert("name")</script>',
        version=1,
        match=PolicyMatch(service="<script>alert(1)</script>"),
        order=-(2**31),
        resolution=Target(seconds=0.25, calendar="gone-calendar", pause_reasons=("weird",)),
        pause_statuses=("waiting_on_user", "in_progress"),
        warn_at=(),
    )
    page = _page([hostile], "en")
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    text = _visible(page)
    assert "All tickets for the service “<script>alert(1)</script>”" in text
    assert "within 1 second, on the service desk's “gone-calendar” hours" in text
    assert "your ticket is in the status “weird”" in text
    assert "an agent is working on your ticket" in text
    assert "No early alert is set for these targets." in text


def test_a_target_no_wait_stops_says_so() -> None:
    policy = _policy(
        "never",
        {
            "match": {"service": "x"},
            "targets": {"resolution": {"seconds": 60, "calendar": "24x7", "pause_reasons": []}},
        },
    )
    assert "This clock keeps running even while we wait for you." in _visible(_page([policy], "en"))


def test_the_page_is_accessible_html_in_its_language() -> None:
    page = _page([_p1_office()], "fr")
    assert '<html lang="fr">' in page
    assert page.count("<h1>") == 1
    assert "<h3" in page
    assert "<ul>" in page
    assert 'href="http://esc.test/policy?lang=fr"' in page
