"""Writing a planned mail: subject, plain text and HTML, from Jinja2 templates per language.

Templates live in `templates/<locale>/<kind>.{subject,txt,html}.j2`; HTML ones extend the
shared `templates/base.html.j2`. HTML is autoescaped; every variable must exist
(StrictUndefined), so a template and its context cannot silently drift apart.
"""

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

from stopclock_notification.domain.kinds import audience
from stopclock_notification.domain.local_time import format_local_time, zone
from stopclock_notification.domain.locales import DEFAULT_LOCALE, resolve_locale
from stopclock_notification.domain.planned_mail import PlannedMail

DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

_WHITESPACE = re.compile(r"\s+")
# Context keys added after rows were first stored: a row recorded before them still renders.
_LATER_KEYS: dict[str, Any] = {
    "answer": {"url": None, "yes": None, "no": None},
    "from_email": False,
    "confirmed": False,
    "in_reply_to": None,
    "policy_url": None,
}


@dataclass(frozen=True)
class RenderedMail:
    """The three parts of a mail: one-line subject, plain text, full HTML document."""

    subject: str
    text: str
    html: str


def render(planned: PlannedMail, templates_dir: Path | None = None) -> RenderedMail:
    """Write `planned` in the recipient's language (English when it has no templates)."""
    env = build_environment(templates_dir or DEFAULT_TEMPLATES_DIR)
    locale = _template_locale(env, planned.locale, planned.kind)
    _, tz_name = zone(planned.timezone)
    context: dict[str, Any] = {
        **_LATER_KEYS,
        **planned.context,
        "locale": locale,
        "timezone": tz_name,
        # Decides what the footer says a reply does (kinds.Audience).
        "audience": audience(planned.kind).value,
    }

    subject = one_line(env.get_template(f"{locale}/{planned.kind}.subject.j2").render(context))
    context["subject"] = subject
    text = env.get_template(f"{locale}/{planned.kind}.txt.j2").render(context)
    html = env.get_template(f"{locale}/{planned.kind}.html.j2").render(context)
    return RenderedMail(subject=subject, text=text.strip() + "\n", html=html.strip() + "\n")


def one_line(text: str) -> str:
    """`text` on one line: a title with line breaks must never reach a mail header as such."""
    return _WHITESPACE.sub(" ", text).strip()


@functools.cache
def build_environment(templates_dir: Path) -> Environment:
    """The Jinja2 environment for a templates folder (built once per folder)."""
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["local_time"] = _local_time
    env.filters["quote"] = quote
    env.filters["percent"] = percent
    return env


def _template_locale(env: Environment, locale: str, kind: str) -> str:
    wanted = resolve_locale(locale)
    if wanted == DEFAULT_LOCALE:
        return wanted
    try:
        env.get_template(f"{wanted}/{kind}.subject.j2")
    except TemplateNotFound:
        return DEFAULT_LOCALE
    return wanted


@pass_context
def _local_time(context: Context, value: datetime | str | None) -> str:
    """`{{ due_at | local_time }}`: in the recipient's zone and language, zone named."""
    if value is None:
        return ""
    try:
        return format_local_time(value, context.get("timezone"), context.get("locale"))
    except ValueError:
        # A garbled time in an event must not cost the recipient the whole mail.
        return str(value)


def quote(text: str | None) -> str:
    """`text` as a plain-text quote block: every line behind `> `."""
    if not text:
        return ""
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines())


@pass_context
def percent(context: Context, fraction: float | int | None) -> str:
    """0.75 → `75%` (`75 %` in French, which spaces it)."""
    if fraction is None:
        return ""
    space = " " if context.get("locale") == "fr" else ""
    return f"{round(float(fraction) * 100)}{space}%"
