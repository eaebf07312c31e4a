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
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared import plain_words as pw
from stopclock_shared.db import SessionDep, utc_now
from stopclock_shared.pages import LangQuery, Pages, negotiate, policy_url, public_page_responses

from .domain.policy import ALWAYS_CALENDAR, EscalationPolicy
from .models import calendars
from .policies import policies_in_force
from .settings import EscalationSettings

router = APIRouter(tags=["policy page"])
_TEMPLATES = Path(__file__).parent / "templates"

_EN: dict[str, str] = {
    "title": "When we are waiting for you: reminders, and when your manager is contacted",
    "intro": (
        "Sometimes we cannot go on with your ticket without you: we need information, we "
        "ask you to check a fix, or we wait for your reply. While we wait, the clock on our "
        "service targets is stopped, and we know the issue is still costing you time, so we "
        "remind you rather than let the ticket sit."
    ),
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
    "see_also_heading": "Our service targets",
    "see_also": "How fast we promise to answer and to fix, and when the clock stops:",
    "see_also_link": "our service targets",
    "other_language": "Cette page en français",
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
    "see_also_heading": "Nos engagements de service",
    "see_also": (
        "En combien de temps nous nous engageons à répondre et à résoudre, et quand le "
        "chronomètre s'arrête :"
    ),
    "see_also_link": "nos engagements de service",
    "other_language": "This page in English",
}

WORDS: Mapping[str, Mapping[str, str]] = {"en": _EN, "fr": _FR}
PAGES = Pages.load(_TEMPLATES, WORDS)


@dataclass(frozen=True)
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
    calendar_specs: Mapping[str, Mapping[str, Any]],
    locale: str,
    today: date | None = None,
) -> list[LadderView]:
    """The policies in the order the matching tries them (``order``, then name)."""
    t = WORDS[locale]
    views: list[LadderView] = []
    for policy in sorted(policies, key=lambda p: (p.order, p.name)):
        covers = pw.covers_words(
            policy.match.type, policy.match.priority, policy.match.service, locale
        )
        # None: 24x7, or a calendar the service no longer knows and counts on 24x7.
        spec = calendar_specs.get(policy.calendar) if policy.calendar != ALWAYS_CALENDAR else None
        hours = pw.hours_of(spec or pw.AROUND_THE_CLOCK)
        when = pw.calendar_words(spec, locale, today)
        durations = [pw.duration_words(s, locale, hours) for s in policy.reminders]
        steps = [
            t["next_reminder" if i else "first_reminder"].format(duration=d)
            for i, d in enumerate(durations)
        ]
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
        views.append(
            LadderView(
                pw.capitalized(covers), policy.name, reminders, then, manager, t["otherwise"]
            )
        )
    return views


async def calendar_specs(session: AsyncSession) -> dict[str, Mapping[str, Any]]:
    """Name -> spec of every calendar the service has learnt from the sla service."""
    rows = (await session.execute(select(calendars.c.name, calendars.c.spec))).all()
    return {str(name): spec for name, spec in rows if isinstance(spec, Mapping)}


@router.get(
    "/policy",
    response_class=HTMLResponse,
    responses=public_page_responses(
        "The reminders and the manager rule in plain words, from the policies in force"
    ),
    summary="The escalation policy page (public)",
)
async def policy_page(request: Request, session: SessionDep, lang: LangQuery = None) -> Response:
    """When we remind a requester who keeps us waiting, and what happens after the last
    reminder; HTML, no token, cacheable (ETag, 304)."""
    locale = negotiate(lang, request.headers.get("accept-language"), WORDS)
    settings: EscalationSettings = request.app.state.settings
    policies = await policies_in_force(session, settings.desk_manager_email)
    specs = await calendar_specs(session)
    other = "fr" if locale == "en" else "en"
    return PAGES.public(
        request,
        "policy.html.j2",
        locale,
        policies=ladder_views(policies, specs, locale, utc_now().date()),
        sla_url=policy_url(settings.public_sla_url, locale),
        other_url=f"?lang={other}",
        other_locale=other,
    )
