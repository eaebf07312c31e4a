"""The shared page machinery: language choice, entity tags, a public page's headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.requests import Request

from stopclock_shared.pages import (
    Pages,
    etag_matches,
    locale_from_header,
    negotiate,
    policy_url,
    strong_etag,
)


@pytest.mark.parametrize(
    ("lang", "header", "locale"),
    [
        ("fr", "en-GB,en;q=0.9", "fr"),
        ("FR-ca", None, "fr"),
        ("en", "fr", "en"),
        ("klingon", "fr-FR,fr;q=0.9", "fr"),  # unknown lang: the header decides
        (None, "de-DE, fr;q=0.5", "fr"),
        (None, "fr;q=0, en;q=0.5", "en"),  # q=0 refuses French
        (None, "de", "en"),
        (None, None, "en"),
        ("", "", "en"),
    ],
)
def test_a_page_speaks_lang_else_the_header_else_english(
    lang: str | None, header: str | None, locale: str
) -> None:
    assert negotiate(lang, header) == locale


def test_the_header_keeps_the_browser_s_order() -> None:
    assert locale_from_header("en-US,fr;q=0.9") == "en"
    assert locale_from_header("fr-CH, en;q=0.8") == "fr"


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ('"abc"', True),
        ('W/"abc"', True),
        ('"xyz", "abc"', True),
        ("*", True),
        ('"abcd"', False),
    ],
)
def test_if_none_match_names_the_tag(header: str | None, matches: bool) -> None:
    assert etag_matches(header, '"abc"') is matches


def test_a_strong_etag_follows_the_bytes() -> None:
    assert strong_etag(b"a") == strong_etag(b"a")
    assert strong_etag(b"a") != strong_etag(b"b")
    assert strong_etag(b"a").startswith('"')


def test_a_policy_url_names_the_language() -> None:
    assert policy_url("https://sla.example.org/", "fr") == "https://sla.example.org/policy?lang=fr"


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/policy", "headers": raw})


def test_a_public_page_is_cacheable_escaped_and_answers_304(tmp_path: Path) -> None:
    (tmp_path / "page.html.j2").write_text(
        '{% extends "base.html.j2" %}{% block title %}{{ t.title }}{% endblock %}'
        "{% block content %}<h1>{{ name }}</h1>{% endblock %}",
        encoding="utf-8",
    )
    pages = Pages.load(tmp_path, {"en": {"title": "Hello"}})
    first = pages.public(_request({}), "page.html.j2", "en", name="<script>x</script>")
    body = bytes(first.body).decode()
    again = pages.public(
        _request({"If-None-Match": first.headers["etag"]}),
        "page.html.j2",
        "en",
        name="<script>x</script>",
    )
    changed = pages.public(
        _request({"If-None-Match": first.headers["etag"]}), "page.html.j2", "en", name="other"
    )

    assert first.status_code == 200
    assert '<html lang="en">' in body
    assert "<script>" not in body
    assert "&lt;script&gt;x&lt;/script&gt;" in body
    assert first.headers["cache-control"] == "public, max-age=300"
    assert first.headers["vary"] == "Accept-Language"
    assert "default-src 'none'" in first.headers["content-security-policy"]
    assert "script-src" not in first.headers["content-security-policy"]
    assert (again.status_code, bytes(again.body)) == (304, b"")
    assert again.headers["etag"] == first.headers["etag"]
    assert changed.status_code == 200
    assert changed.headers["etag"] != first.headers["etag"]
