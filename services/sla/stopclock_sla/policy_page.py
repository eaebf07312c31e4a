"""``GET /policy``: the SLA policies in plain words for requesters (public, no token).

Rendered from the live current policies and calendars, in the order the matching tries
them: for each, what it covers, each target in human units on its hours, which waits stop
which target, and when the desk is alerted. English or French (``?lang=``, else
``Accept-Language``, else English); cacheable (ETag, five minutes). The machinery
(templates, CSP, caching) is ``stopclock_shared.pages``; the wording
``stopclock_shared.plain_words``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from stopclock_shared import plain_words as pw
from stopclock_shared.db import utc_now
from stopclock_shared.pages import LangQuery, Pages, negotiate, policy_url, public_page_responses

from . import use_cases
from .api import SettingsDep, UowDep
from .domain.calendar_pins import split_key
from .state import StateDep
from .use_cases import PublishedPolicies

router = APIRouter(tags=["policy page"])
_TEMPLATES = Path(__file__).parent / "templates"

_EN: dict[str, str] = {
    "title": "Our service targets, and when the clock stops",
    "intro": (
        "An IT problem costs you time you had planned for something else. Here is how fast "
        "we promise to answer you and to fix things, and exactly when the clock on those "
        "promises stops."
    ),
    "how_heading": "How the clock works",
    "how_hours": "The clock on a target runs only during the hours given for that target.",
    "how_stops": (
        "The clock stops while we wait for you: when we need information from you, when we "
        "ask you to check that a fix works, or when we wait for your reply. It "
        "restarts the moment you answer, whether you reply to our email or answer from the "
        "page linked in it."
    ),
    "how_no_hiding": (
        "We never stop the clock to hide a delay: every wait is recorded with who set it, "
        "and the service desk manager checks them."
    ),
    "how_alerts": (
        "Before a target is missed, the service desk is alerted at the points given below, "
        "so that someone acts in time."
    ),
    "how_missed": (
        "If we miss a target, the service desk manager is told at once and follows your "
        "ticket until it is resolved."
    ),
    "how_order": "If several of the descriptions below fit your ticket, the first one applies.",
    "policies_heading": "Our targets",
    "no_policies": "No service target is set at the moment.",
    "policy_name": "Policy “{name}”",
    "first_response": "We first respond to {covers} within {duration}, {hours}.",
    "resolution": "We resolve {covers} within {duration}, {hours}.",
    "stops_on": "This clock stops while:",
    "never_stops": "This clock keeps running even while we wait for you.",
    "alerts": "The service desk is alerted when {points} of the time for a target has passed.",
    "no_alerts": "No early alert is set for these targets.",
    "unknown_calendar": "on the service desk's “{name}” hours",
    "see_also_heading": "When we are waiting for you",
    "see_also": (
        "If we are waiting for your answer, we remind you; read what happens after the "
        "reminders, and when your manager is contacted:"
    ),
    "see_also_link": "reminders and the manager rule",
    "other_language": "Cette page en français",
}

_FR: dict[str, str] = {
    "title": "Nos engagements de service, et quand le chronomètre s'arrête",
    "intro": (
        "Un problème informatique vous coûte du temps prévu pour autre chose. Voici en "
        "combien de temps nous nous engageons à vous répondre et à résoudre, et exactement "
        "quand le chronomètre de ces engagements s'arrête."
    ),
    "how_heading": "Comment fonctionne le chronomètre",
    "how_hours": (
        "Le chronomètre d'un engagement ne tourne que pendant les heures indiquées pour cet "
        "engagement."
    ),
    "how_stops": (
        "Le chronomètre s'arrête pendant que nous vous attendons : quand il nous faut une "
        "information de votre part, quand nous vous demandons de vérifier qu'une "
        "correction fonctionne, ou quand nous attendons votre réponse. Il repart dès que vous "
        "répondez, que ce soit en répondant à notre e-mail ou depuis la page dont il donne le "
        "lien."
    ),
    "how_no_hiding": (
        "Nous n'arrêtons jamais le chronomètre pour masquer un retard : chaque attente est "
        "enregistrée avec la personne qui l'a décidée, et le responsable du centre de "
        "services les contrôle."
    ),
    "how_alerts": (
        "Avant qu'un engagement ne soit manqué, le centre de services est alerté aux seuils "
        "indiqués ci-dessous, pour que quelqu'un agisse à temps."
    ),
    "how_missed": (
        "Si nous manquons un engagement, le responsable du centre de services est prévenu "
        "aussitôt et suit votre ticket jusqu'à sa résolution."
    ),
    "how_order": (
        "Si plusieurs des descriptions ci-dessous correspondent à votre ticket, la première "
        "s'applique."
    ),
    "policies_heading": "Nos engagements",
    "no_policies": "Aucun engagement de service n'est défini pour le moment.",
    "policy_name": "Politique « {name} »",
    "first_response": (
        "Nous apportons une première réponse pour {covers} dans un délai de {duration}, {hours}."
    ),
    "resolution": "Nous résolvons {covers} dans un délai de {duration}, {hours}.",
    "stops_on": "Ce chronomètre s'arrête pendant que :",
    "never_stops": "Ce chronomètre continue de tourner même pendant que nous vous attendons.",
    "alerts": (
        "Le centre de services est alerté quand {points} du temps d'un engagement est écoulé."
    ),
    "no_alerts": "Aucune alerte anticipée n'est définie pour ces engagements.",
    "unknown_calendar": "selon les horaires « {name} » du centre de services",
    "see_also_heading": "Quand nous vous attendons",
    "see_also": (
        "Si nous attendons votre réponse, nous vous relançons ; voici ce qui se passe après "
        "les relances, et quand votre responsable est contacté :"
    ),
    "see_also_link": "les relances et la règle du responsable",
    "other_language": "This page in English",
}

WORDS: Mapping[str, Mapping[str, str]] = {"en": _EN, "fr": _FR}
PAGES = Pages.load(_TEMPLATES, WORDS)


@dataclass(frozen=True)
class TargetView:
    """One promise of a policy, as the page says it."""

    sentence: str
    stops: list[str]


@dataclass(frozen=True)
class PolicyView:
    """One policy, as the page says it."""

    heading: str
    name: str
    targets: list[TargetView]
    alerts: str


def policy_views(
    published: PublishedPolicies, locale: str, today: date | None = None
) -> list[PolicyView]:
    """What the page says of each policy, first the one a ticket gets first (by ``order``,
    then name); `today` dates the calendars' next holidays."""
    t = WORDS[locale]
    calendar_specs = published.calendar_specs
    views: list[PolicyView] = []
    for policy in sorted(published.policies, key=lambda p: (p.order, p.name)):
        covers = pw.covers_words(
            policy.match.type, policy.match.priority, policy.match.service, locale
        )
        targets = []
        for target_name, target in policy.targets.items():
            calendar_name, _ = split_key(target.calendar)
            spec = calendar_specs.get(calendar_name)
            if spec is None:
                hours, when = (
                    pw.Hours(always=True),
                    t["unknown_calendar"].format(name=calendar_name),
                )
            else:
                hours, when = pw.hours_of(spec), pw.calendar_words(spec, locale, today)
            sentence = t[target_name].format(
                covers=covers, duration=pw.duration_words(target.seconds, locale, hours), hours=when
            )
            stops = pw.stopping_waits(policy.pause_statuses, target.pause_reasons)
            targets.append(TargetView(sentence, [pw.stop_words(k, locale) for k in stops]))
        points = [pw.percent_words(f, locale) for f in policy.warn_at]
        alerts = (
            t["alerts"].format(points=pw.list_words(points, locale)) if points else t["no_alerts"]
        )
        views.append(PolicyView(pw.capitalized(covers), policy.name, targets, alerts))
    return views


@router.get(
    "/policy",
    response_class=HTMLResponse,
    responses=public_page_responses(
        "The SLA policies in plain words: targets, hours, what stops the clock"
    ),
    summary="The SLA policy page (public)",
)
async def policy_page(
    request: Request, uow: UowDep, state: StateDep, settings: SettingsDep, lang: LangQuery = None
) -> Response:
    """What each target promises, on which hours, which waits stop the clock, and that it
    restarts on the requester's answer; HTML, no token, cacheable (ETag, 304)."""
    locale = negotiate(lang, request.headers.get("accept-language"), WORDS)
    published = await use_cases.published_policies(uow, state.cache)
    other = "fr" if locale == "en" else "en"
    return PAGES.public(
        request,
        "policy.html.j2",
        locale,
        policies=policy_views(published, locale, utc_now().date()),
        escalation_url=policy_url(settings.public_escalation_url, locale),
        other_url=f"?lang={other}",
        other_locale=other,
    )
