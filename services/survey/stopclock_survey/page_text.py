"""The words of the survey page, in English and French, and how dates read in each.

Tone: the requester lost time to a failure; every page says we know it and says what
happens next. Placeholders use ``str.format`` names; the templates escape the results.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALES = ("en", "fr")
DEFAULT_LOCALE = "en"

_EN: dict[str, str] = {
    "page_title": "How did we do? {number}",
    "heading": "How did we handle {number}?",
    "intro": (
        "An IT problem takes time you had planned for something else. Tell us how much of it "
        "we gave back, and where we made it worse: it takes a minute, and a person on the "
        "service desk reads every answer."
    ),
    "ticket_label": "Your ticket",
    "ticket_line": "{number}: {title}",
    "rating_legend": "How satisfied are you with the way we handled it?",
    "rating_1": "1, very dissatisfied",
    "rating_2": "2, dissatisfied",
    "rating_3": "3, neither satisfied nor dissatisfied",
    "rating_4": "4, satisfied",
    "rating_5": "5, very satisfied",
    "resolved_legend": "Is your issue resolved?",
    "resolved_yes": "Yes, it is resolved",
    "resolved_no": "No, it is not resolved",
    "comment_label": "What should we know? (optional)",
    "comment_hint": "At most {max} characters. What cost you the most time?",
    "next_heading": "What happens next",
    "next_not_resolved": (
        "If your issue is not resolved, we reopen the ticket as soon as you send this, and an "
        "agent picks it up again: no need to open a new one."
    ),
    "next_negative": (
        "If we let you down, the service desk manager reads your answer and follows up."
    ),
    "expires": "This link takes one answer, until {date}.",
    "submit": "Send my answer",
    "errors_heading": "Please check your answer",
    "error_rating": "Choose a rating from 1 to 5.",
    "error_resolved": "Tell us whether your issue is resolved.",
    "error_comment": "Keep the comment to {max} characters (it has {length}).",
    "thanks_title": "Thank you: {number}",
    "thanks_heading": "Thank you for your answer",
    "thanks_positive": (
        "Your answer is recorded. Thank you for giving us this minute on top of the time the "
        "issue already took."
    ),
    "thanks_negative": (
        "We are sorry we let you down. The service desk manager has been told and will look "
        "at what went wrong on {number}; they may contact you."
    ),
    "thanks_reopened": (
        "We have reopened {number}. An agent will pick it up again and contact you; you do "
        "not need to open a new ticket."
    ),
    "not_found_title": "Survey not found",
    "not_found_heading": "We could not find this survey",
    "not_found_body": (
        "The link may be incomplete: copy the whole address from the e-mail into your "
        "browser. If your issue still needs attention, contact the service desk."
    ),
    "expired_title": "Survey closed",
    "expired_heading": "This survey has closed",
    "expired_body": (
        "It took answers until {date}. If your issue with {number} is still not resolved, "
        "contact the service desk and mention {number}: we will pick it up again."
    ),
    "answered_title": "Already answered",
    "answered_heading": "You have already answered this survey",
    "answered_body": (
        "We recorded your answer on {date}, and a survey takes one answer, so this one was "
        "not stored. If something changed on {number}, contact the service desk."
    ),
    "refused_title": "Answer not accepted",
    "refused_heading": "We could not accept this form",
    "refused_body": (
        "For your safety we only accept answers sent from the survey page itself. Open the "
        "link from the e-mail again and send the form from there."
    ),
    "too_large_title": "Answer too long",
    "too_large_heading": "Your answer is too long",
    "too_large_body": "Go back, shorten the comment and send it again.",
}

_FR: dict[str, str] = {
    "page_title": "Votre avis : {number}",
    "heading": "Comment avons-nous traité {number} ?",
    "intro": (
        "Un problème informatique vous prend du temps prévu pour autre chose. Dites-nous "
        "combien nous vous en avons rendu, et où nous avons aggravé les choses : cela prend "
        "une minute, et une personne du centre de services lit chaque réponse."
    ),
    "ticket_label": "Votre ticket",
    "ticket_line": "{number} : {title}",
    "rating_legend": "Êtes-vous satisfait de la façon dont nous l'avons traité ?",
    "rating_1": "1, très insatisfait",
    "rating_2": "2, insatisfait",
    "rating_3": "3, ni satisfait ni insatisfait",
    "rating_4": "4, satisfait",
    "rating_5": "5, très satisfait",
    "resolved_legend": "Votre problème est-il résolu ?",
    "resolved_yes": "Oui, il est résolu",
    "resolved_no": "Non, il n'est pas résolu",
    "comment_label": "Que devrions-nous savoir ? (facultatif)",
    "comment_hint": "{max} caractères au plus. Qu'est-ce qui vous a coûté le plus de temps ?",
    "next_heading": "Et ensuite",
    "next_not_resolved": (
        "Si votre problème n'est pas résolu, nous rouvrons le ticket dès l'envoi de ce "
        "formulaire et un agent le reprend : inutile d'en ouvrir un nouveau."
    ),
    "next_negative": (
        "Si nous vous avons déçu, le responsable du centre de services lit votre réponse et "
        "revient vers vous."
    ),
    "expires": "Ce lien accepte une seule réponse, jusqu'au {date}.",
    "submit": "Envoyer ma réponse",
    "errors_heading": "Merci de vérifier votre réponse",
    "error_rating": "Choisissez une note de 1 à 5.",
    "error_resolved": "Dites-nous si votre problème est résolu.",
    "error_comment": "Le commentaire doit faire {max} caractères au plus (il en a {length}).",
    "thanks_title": "Merci : {number}",
    "thanks_heading": "Merci pour votre réponse",
    "thanks_positive": (
        "Votre réponse est enregistrée. Merci de nous avoir accordé cette minute, en plus du "
        "temps que le problème vous a déjà pris."
    ),
    "thanks_negative": (
        "Nous sommes désolés de vous avoir déçu. Le responsable du centre de services est "
        "prévenu et va examiner ce qui n'a pas fonctionné sur {number} ; il pourra vous "
        "contacter."
    ),
    "thanks_reopened": (
        "Nous avons rouvert {number}. Un agent le reprend et vous contactera ; inutile "
        "d'ouvrir un nouveau ticket."
    ),
    "not_found_title": "Enquête introuvable",
    "not_found_heading": "Nous ne trouvons pas cette enquête",
    "not_found_body": (
        "Le lien est peut-être incomplet : copiez l'adresse entière depuis l'e-mail dans "
        "votre navigateur. Si votre problème demande encore notre attention, contactez le "
        "centre de services."
    ),
    "expired_title": "Enquête close",
    "expired_heading": "Cette enquête est close",
    "expired_body": (
        "Elle acceptait les réponses jusqu'au {date}. Si votre problème sur {number} n'est "
        "toujours pas résolu, contactez le centre de services en citant {number} : nous le "
        "reprendrons."
    ),
    "answered_title": "Déjà répondu",
    "answered_heading": "Vous avez déjà répondu à cette enquête",
    "answered_body": (
        "Nous avons enregistré votre réponse le {date} ; une enquête n'accepte qu'une "
        "réponse, celle-ci n'a donc pas été enregistrée. Si quelque chose a changé sur "
        "{number}, contactez le centre de services."
    ),
    "refused_title": "Réponse refusée",
    "refused_heading": "Nous ne pouvons pas accepter ce formulaire",
    "refused_body": (
        "Pour votre sécurité, nous n'acceptons que les réponses envoyées depuis la page de "
        "l'enquête. Rouvrez le lien de l'e-mail et envoyez le formulaire depuis cette page."
    ),
    "too_large_title": "Réponse trop longue",
    "too_large_heading": "Votre réponse est trop longue",
    "too_large_body": "Revenez en arrière, raccourcissez le commentaire et renvoyez-le.",
}

WORDS: Mapping[str, Mapping[str, str]] = {"en": _EN, "fr": _FR}

_MONTHS = {
    "en": (
        "January February March April May June July August September October November December"
    ).split(),
    "fr": (
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
    ).split(),
}


def locale_of(value: str | None) -> str:
    """``fr-CA`` → ``fr``; anything we have no words for → English."""
    language = (value or DEFAULT_LOCALE).replace("_", "-").split("-")[0].lower()
    return language if language in WORDS else DEFAULT_LOCALE


def locale_from_header(accept_language: str | None) -> str:
    """The first language of an ``Accept-Language`` header we have words for (for pages
    without a survey, where the requester's locale is unknown)."""
    for part in (accept_language or "").split(","):
        language = part.split(";")[0].strip().split("-")[0].lower()
        if language in WORDS:
            return language
    return DEFAULT_LOCALE


def local_date(moment: datetime, locale: str, timezone: str | None) -> str:
    """``23 November 2026`` / ``23 novembre 2026`` in the requester's time zone."""
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone)
    return f"{local.day} {_MONTHS[locale_of(locale)][local.month - 1]} {local.year}"
