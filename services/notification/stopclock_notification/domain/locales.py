"""Which languages mails are written in, and how a person's locale maps onto one."""

SUPPORTED_LOCALES: tuple[str, ...] = ("en", "fr")
DEFAULT_LOCALE = "en"
DEFAULT_TIMEZONE = "UTC"


def resolve_locale(locale: str | None) -> str:
    """The supported language for a locale such as `fr`, `fr-CA` or `fr_FR`; English otherwise."""
    if not locale:
        return DEFAULT_LOCALE
    language = locale.replace("_", "-").split("-", 1)[0].strip().lower()
    return language if language in SUPPORTED_LOCALES else DEFAULT_LOCALE
