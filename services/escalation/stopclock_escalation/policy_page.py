"""``GET /policy``: reminders and the manager rule in plain words for requesters (public).

Rendered from the escalation policies in force (the stored ones and the built-in
``default``), in the order the matching tries them, on the calendars the service knows.
Same machinery, languages and caching as the sla policy page, which it links to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from stopclock_shared import plain_words as pw
from stopclock_shared.db import utc_now
from stopclock_shared.pages import LangQuery, Pages, negotiate, policy_url, public_page_responses

from .api import SettingsDep, UowDep
from .domain.policy import ALWAYS_CALENDAR, EscalationPolicy
from .use_cases.calendars import calendar_specs
from .use_cases.policies import policies_in_force

router = APIRouter(tags=["policy page"])

_EN: dict[str, str] = {
    "intro": (
        "Sometimes we cannot go on with your ticket without you: we need information, we "
        "ask you to check a fix, or we wait for your reply. While we wait, the clock on our "
        "service targets is stopped, and we know the issue is still costing you time, so we "
        "remind you rather than let the ticket sit."
    ),
    "title": "When we are waiting for you: reminders, and when your manager is contacted",
    "how_heading": "How it works",
    "how_answer": (
        "Answer at any time by replying to our email or from the page linked in it: the "
        "reminders stop and the clock on our targets restarts the moment you answer."
    ),
    "how_away": (
        "An automatic out-of-office reply never counts against you: we see that you are away."
    ),
    "how_order": "If several of the descriptions below fit your ticket, the first one applies.",
    "policies_heading": "Our reminders",
    "policy_name": "Policy “{name}”",
    "first_reminder": "after {duration}",
    "next_reminder": "then after {duration}",
    "reminders": (
        "If we are waiting for your answer, we send you a reminder by email {reminders} of "
        "waiting, counted {hours}."
    ),
    "then_grace": "If we still have no answer {grace} after the last reminder:",
    "then_now": "If we still have no answer right after the last reminder:",
    "manager_blocked": (
        "if the issue blocks your work and you have left at least {count} of our questions "
        "unanswered in the last {days} days, we contact your manager, so that someone can "
        "unblock it with you;"
    ),
    "manager_any": (
        "if you have left at least {count} of our questions unanswered in the last {days} "
        "days, we contact your manager, so that someone can move it on with you;"
    ),
    "otherwise": (
        "otherwise we resolve the ticket for lack of response. You can reopen it just by "
        "answering: reply to our latest email about it, and an agent picks it up again."
    ),
    "other_language": "Cette page en français",
    "see_also_heading": "Our service targets",
    "see_also_link": "our service targets",
    "see_also": "How fast we promise to answer and to fix, and when the clock stops:",
}

_FR: dict[str, str] = {
    "title": "Quand nous vous attendons : les relances, et quand votre responsable est contacté",
    "intro": (
        "Parfois nous ne pouvons pas avancer sur votre ticket sans vous : il nous faut une "
        "information, nous vous demandons de vérifier une correction, ou nous attendons votre "
        "réponse. Pendant cette attente, le chronomètre de nos engagements de service est "
        "arrêté, et nous savons que le problème vous coûte encore du temps : nous vous "
        "relançons donc plutôt que de laisser le ticket en suspens."
    ),
    "how_heading": "Comment cela fonctionne",
    "how_answer": (
        "Répondez quand vous voulez, en répondant à notre e-mail ou depuis la page dont il "
        "donne le lien : les relances s'arrêtent et le chronomètre de nos engagements repart "
        "dès que vous répondez."
    ),
    "how_away": (
        "Une réponse automatique d'absence ne compte jamais contre vous : nous voyons que "
        "vous êtes absent."
    ),
    "how_order": (
        "Si plusieurs des descriptions ci-dessous correspondent à votre ticket, la première "
        "s'applique."
    ),
    "policies_heading": "Nos relances",
    "policy_name": "Politique « {name} »",
    "first_reminder": "après {duration}",
    "next_reminder": "puis après {duration}",
    "reminders": (
        "Si nous attendons votre réponse, nous vous relançons par e-mail {reminders} "
        "d'attente, comptés {hours}."
    ),
    "then_grace": "Si nous n'avons toujours pas de réponse {grace} après la dernière relance :",
    "then_now": "Si nous n'avons toujours pas de réponse juste après la dernière relance :",
    "manager_blocked": (
        "si le problème bloque votre travail et que vous avez laissé au moins {count} de nos "
        "questions sans réponse au cours des {days} derniers jours, nous contactons votre "
        "responsable, pour que quelqu'un le débloque avec vous ;"
    ),
    "manager_any": (
        "si vous avez laissé au moins {count} de nos questions sans réponse au cours des "
        "{days} derniers jours, nous contactons votre responsable, pour que quelqu'un le "
        "fasse avancer avec vous ;"
    ),
    "otherwise": (
        "sinon nous résolvons le ticket faute de réponse. Vous pouvez le rouvrir simplement "
        "en répondant à notre dernier e-mail à son sujet : un agent le reprend."
    ),
    "other_language": "This page in English",
    "see_also_heading": "Nos engagements de service",
    "see_also_link": "nos engagements de service",
    "see_also": (
        "En combien de temps nous nous engageons à répondre et à résoudre, et quand le "
        "chronomètre s'arrête :"
    ),
}

WORDS: Mapping[str, Mapping[str, str]] = {"en": _EN, "fr": _FR}
PAGES = Pages.load(Path(__file__).parent / "templates", WORDS)


@dataclass(frozen=True, slots=True)
class LadderView:
    """One escalation policy, as the page says it."""

    heading: str
    name: str
    reminders: str
    then: str
    manager: str
    otherwise: str


def ladder_views(
    policies: Sequence[EscalationPolicy],
    locale: str,
    calendar_specs: Mapping[str, Mapping[str, Any]],
    today: date | None = None,
) -> list[LadderView]:
    """The policies in the order the matching tries them (``order``, then name)."""
    ordered = sorted(policies, key=lambda p: (p.order, p.name))
    # None: 24x7, or a calendar the service no longer knows and counts on 24x7.
    specs = [
        calendar_specs.get(p.calendar) if p.calendar != ALWAYS_CALENDAR else None for p in ordered
    ]
    return [_ladder_view(p, spec, locale, today) for p, spec in zip(ordered, specs, strict=True)]


def _ladder_view(
    policy: EscalationPolicy, spec: Mapping[str, Any] | None, locale: str, today: date | None
) -> LadderView:
    t = WORDS[locale]
    match = policy.match
    covers = pw.covers_words(match.type, match.priority, match.service, locale)
    hours = pw.hours_of(spec or pw.AROUND_THE_CLOCK)
    durations = [pw.duration_words(s, locale, hours) for s in policy.reminders]
    steps = [
        t["next_reminder" if i else "first_reminder"].format(duration=d)
        for i, d in enumerate(durations)
    ]
    when = pw.calendar_words(spec, locale, today)
    reminders = t["reminders"].format(reminders=", ".join(steps), hours=when)
    grace = policy.final_grace_seconds
    then = (
        t["then_grace"].format(grace=pw.duration_words(grace, locale, hours))
        if grace > 0
        else t["then_now"]
    )
    rule = policy.manager_escalation
    manager = t["manager_blocked" if rule.requires_work_blocked else "manager_any"].format(
        count=rule.min_unresponsive_episodes, days=rule.window_days
    )
    return LadderView(pw.capitalized(covers), policy.name, reminders, then, manager, t["otherwise"])


@router.get(
    "/policy",
    response_class=HTMLResponse,
    responses=public_page_responses(
        "The reminders and the manager rule in plain words, from the policies in force"
    ),
    summary="The escalation policy page (public)",
)
async def policy_page(
    request: Request, uow: UowDep, settings: SettingsDep, lang: LangQuery = None
) -> Response:
    """When we remind a requester who keeps us waiting, and what happens after the last
    reminder; HTML, no token, cacheable (ETag, 304)."""
    locale = negotiate(lang, request.headers.get("accept-language"), WORDS)
    policies = await policies_in_force(uow, settings.desk_manager_email)
    specs = await calendar_specs(uow)
    other = "fr" if locale == "en" else "en"
    return PAGES.public(
        request,
        "policy.html.j2",
        locale,
        policies=ladder_views(policies, locale, specs, utc_now().date()),
        sla_url=policy_url(settings.public_sla_url, locale),
        other_url=f"?lang={other}",
        other_locale=other,
    )
