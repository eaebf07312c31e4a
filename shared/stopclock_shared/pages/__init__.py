"""Requester-facing HTML pages: templates, stylesheet and CSP, caching, languages."""

from ..languages import (
    DEFAULT_LOCALE,
    LOCALES,
    date_words,
    local_date,
    locale_from_header,
    locale_of,
    negotiate,
    policy_url,
)
from .kit import (
    PUBLIC_MAX_AGE,
    SHARED_TEMPLATES,
    LangQuery,
    Pages,
    etag_matches,
    page_csp,
    public_page_responses,
    strong_etag,
)

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "PUBLIC_MAX_AGE",
    "SHARED_TEMPLATES",
    "LangQuery",
    "Pages",
    "date_words",
    "etag_matches",
    "local_date",
    "locale_from_header",
    "locale_of",
    "negotiate",
    "page_csp",
    "policy_url",
    "public_page_responses",
    "strong_etag",
]
