"""The resolution text of a ticket resolved because its requester never answered."""

from __future__ import annotations

DEFAULT_LOCALE = "en"


def _en(reminders: int) -> str:
    after = f"after {reminders} reminder{'s' if reminders != 1 else ''}" if reminders else ""
    heard = f"we did not hear back from you {after}".rstrip()
    return (
        f"We resolved this ticket because {heard}. "
        "If you still need help, simply answer with a comment on the ticket "
        "and it will be reopened."
    )


def _fr(reminders: int) -> str:
    after = f" après {reminders} relance{'s' if reminders > 1 else ''}" if reminders else ""
    return (
        f"Nous avons résolu ce ticket car nous n'avons pas eu de réponse de votre part{after}. "
        "Si vous avez encore besoin d'aide, répondez simplement par un commentaire sur le "
        "ticket : il sera rouvert."
    )


_TEXTS = {"en": _en, "fr": _fr}


def auto_resolve_text(reminders: int, locale: str | None = DEFAULT_LOCALE) -> str:
    """Resolution text in the requester's locale (``fr-CA`` → ``fr``; unknown → English)."""
    language = (locale or DEFAULT_LOCALE).replace("_", "-").split("-")[0].lower()
    return _TEXTS.get(language, _en)(reminders)
