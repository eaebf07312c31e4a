"""Every kind of mail, in every language: subject, plain text and HTML."""

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from stopclock_notification.domain.kinds import ALL_KINDS, Audience, MailKind, audience
from stopclock_notification.domain.locales import SUPPORTED_LOCALES
from stopclock_notification.domain.planned_mail import PlannedMail
from stopclock_notification.domain.rendering import DEFAULT_TEMPLATES_DIR, render
from stopclock_shared.events.types import EventType as T
from stopclock_shared.links import answer_token, read_answer_token

from . import factories as f
from .html_check import check_html

TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?/?>")
NOTE = "Which printer model is it?\nThe label is on the back, next to the serial number."
RESOLUTION = "Replaced the fuser unit and cleaned the paper path."
COMMENT = "It still jams and nobody called me back."
OUTAGE_MESSAGE = "We found the cause and are restarting the mail servers."


@dataclass(frozen=True)
class Case:
    """How to cause one kind of mail, and what its reader must find in it."""

    event_type: str
    make: Callable[[str], dict[str, Any]]
    # Found in the text and the HTML whatever the language (ticket data, links, quotes).
    content: Callable[[dict[str, Any]], list[str]] = lambda d: []
    # Wording per language, found in the text and the HTML.
    wording: dict[str, list[str]] = field(default_factory=dict)


def who(locale: str, **overrides: Any) -> dict[str, Any]:
    return f.person_ref(locale=locale, **overrides)


def ticket(locale: str, **overrides: Any) -> dict[str, Any]:
    return f.ticket_snapshot(
        requester=who(locale, manager_name="Charles Babbage"),
        assignee=who(locale, name="Grace Hopper"),
        **overrides,
    )


def rating_urls(d: dict[str, Any]) -> list[str]:
    return [d["url"], *(f"{d['url']}?rating={n}" for n in range(1, 6))]


def answer_url(d: dict[str, Any]) -> str:
    """The answer page of the wait the event's ticket is in."""
    since = datetime.fromisoformat(d["ticket"]["waiting_since"])
    return f"{f.SURVEY_BASE_URL}/a/{answer_token(f.LINK_KEY, UUID(d['ticket']['id']), since)}"


CASES: dict[MailKind, Case] = {
    MailKind.TICKET_OPENED: Case(
        T.TICKET_CREATED,
        lambda loc: f.ticket_created(ticket(loc, status="new")),
        lambda d: [d["ticket"]["title"], "P2"],
        {
            "en": [
                "costing you time",
                "What happens next",
                "search your inbox for INC0000123",
                "Reply to this email",
            ],
            "fr": ["perdre du temps", "La suite", "Recherchez INC0000123", "Répondez à ce message"],
        },
    ),
    MailKind.INFO_REQUESTED: Case(
        T.TICKET_STATUS_CHANGED,
        lambda loc: f.status_changed(
            "in_progress", "waiting_on_user", ticket=ticket(loc), reason="info_requested", note=NOTE
        ),
        lambda d: [*NOTE.splitlines(), answer_url(d)],
        {
            "en": [
                "reply to this email, or use this link",
                "already costing you time",
                "clock",
                "stopped",
                "restarts the moment you answer",
            ],
            "fr": [
                "répondez à ce message, ou utilisez ce lien",
                "vous fait déjà perdre du temps",
                "chronomètre",
                "arrêté",
                "repart dès que vous répondez",
            ],
        },
    ),
    MailKind.REMINDER: Case(
        T.ESCALATION_REMINDER,
        lambda loc: f.reminder(level=1, of=2, ticket=f.waiting_ticket(requester=who(loc))),
        lambda d: [d["ticket"]["title"], answer_url(d)],
        {
            "en": [
                "Reminder 1 of 2",
                "another reminder",
                "reply to this email, or use this link",
                "already cost you time",
            ],
            "fr": [
                "Relance 1 sur 2",
                "nouvelle relance",
                "répondez à ce message, ou utilisez ce lien",
                "déjà fait perdre du temps",
            ],
        },
    ),
    MailKind.USER_RESPONSE_RECEIVED: Case(
        T.TICKET_STATUS_CHANGED,
        lambda loc: f.status_changed(
            "waiting_on_user", "in_progress", ticket=ticket(loc), reason="requester_answered"
        ),
        lambda d: [d["ticket"]["title"]],
        {
            "en": ["clock", "running again", "Reply to this email"],
            "fr": ["chronomètre", "est reparti", "Répondez à ce message"],
        },
    ),
    MailKind.RESOLVED: Case(
        T.TICKET_STATUS_CHANGED,
        lambda loc: f.status_changed(
            "in_progress", "resolved", ticket=ticket(loc, resolution=RESOLUTION)
        ),
        lambda d: [RESOLUTION],
        {
            "en": ["reopens", '"not resolved"', "Reply to this email and tell us what still fails"],
            "fr": ["rouvre", "« non résolu »", "Répondez à ce message en nous disant"],
        },
    ),
    MailKind.CLOSED: Case(
        T.TICKET_STATUS_CHANGED,
        lambda loc: f.status_changed("resolved", "closed", ticket=ticket(loc)),
        lambda d: [d["ticket"]["title"]],
        {
            "en": ["closed", "reply to this email", "open a new ticket", "sorry for the time"],
            "fr": ["clôturé", "répondez simplement", "nouveau ticket", "désolés du temps"],
        },
    ),
    MailKind.SLA_WARNING: Case(
        T.ESCALATION_SLA,
        lambda loc: f.sla_escalation("warning", ticket=ticket(loc)),
        lambda d: [d["ticket"]["requester"]["email"]],
        {"en": ["75%", "resolution"], "fr": ["75 %", "résolution"]},
    ),
    MailKind.SLA_BREACHED: Case(
        T.ESCALATION_SLA,
        lambda loc: f.sla_escalation("breach", ticket=ticket(loc)),
        lambda d: [d["ticket"]["requester"]["email"]],
        {"en": ["missed", "longer than we promised"], "fr": ["dépassé", "avions promis"]},
    ),
    MailKind.MANAGER_ESCALATION: Case(
        T.ESCALATION_MANAGER,
        lambda loc: f.manager_escalation(ticket=f.waiting_ticket(), manager=who(loc)),
        lambda d: [d["ticket"]["requester"]["name"], d["ticket"]["title"]],
        {
            "en": [
                "stops them from working",
                "to send us the information we asked for",
                "Thank you",
            ],
            "fr": [
                "l'empêche de travailler",
                "nous transmette les informations demandées",
                "Merci",
            ],
        },
    ),
    MailKind.SURVEY_INVITATION: Case(
        T.SURVEY_REQUESTED,
        lambda loc: f.survey_requested(ticket=ticket(loc)),
        rating_urls,
        {"en": ["cost you time", "not resolved"], "fr": ["perdre du temps", "n'est pas résolu"]},
    ),
    MailKind.NEGATIVE_FEEDBACK: Case(
        T.ESCALATION_NEGATIVE_FEEDBACK,
        lambda loc: f.negative_feedback(comment=COMMENT),
        lambda d: [COMMENT, d["ticket"]["requester"]["name"]],
        {"en": ["2 out of 5", "reopened"], "fr": ["2 sur 5", "rouvert"]},
    ),
    MailKind.OUTAGE_NOTICE: Case(
        T.OUTAGE_DECLARED,
        lambda loc: f.outage_event(subscribers=[who(loc)], message=OUTAGE_MESSAGE),
        lambda d: [d["outage"]["title"], OUTAGE_MESSAGE],
        {
            "en": ["sorry", "Impact: high", "Next update"],
            "fr": ["désolés", "Impact : élevé", "Prochaine nouvelle"],
        },
    ),
    MailKind.OUTAGE_UPDATE: Case(
        T.OUTAGE_UPDATED,
        lambda loc: f.outage_event(subscribers=[who(loc)], message=OUTAGE_MESSAGE),
        lambda d: [d["outage"]["title"], OUTAGE_MESSAGE],
        {"en": ["sorry", "Next update"], "fr": ["désolés", "Prochaine nouvelle"]},
    ),
    MailKind.OUTAGE_RESOLVED: Case(
        T.OUTAGE_RESOLVED,
        lambda loc: f.outage_event(
            subscribers=[who(loc)], message=OUTAGE_MESSAGE, resolved_at="2024-05-14T09:00:00Z"
        ),
        lambda d: [d["outage"]["title"], OUTAGE_MESSAGE],
        {"en": ["sorry", "working again"], "fr": ["désolés", "fonctionne de nouveau"]},
    ),
}

KIND_LOCALES = [
    pytest.param(kind, locale, id=f"{kind}-{locale}")
    for kind in sorted(ALL_KINDS)
    for locale in SUPPORTED_LOCALES
]


def planned(kind: MailKind, locale: str) -> tuple[PlannedMail, dict[str, Any]]:
    case = CASES[kind]
    data = case.make(locale)
    mails = f.plan_mails(
        case.event_type,
        data,
        event_id=f.new_id(),
        event_time=datetime(2024, 5, 14, 8, 0, tzinfo=UTC),
        survey_base_url=f.SURVEY_BASE_URL,
        desk_locale=locale,
        link_key=f.LINK_KEY,
    )
    [mail] = [m for m in mails if m.kind == kind][:1]
    return mail, data


def visible(document: str) -> str:
    """The text a reader sees in an HTML document (tags dropped, entities decoded)."""
    return html.unescape(TAG.sub(" ", document))


def test_every_kind_has_a_rendering_case() -> None:
    assert set(CASES) == ALL_KINDS


@pytest.mark.parametrize(("kind", "locale"), KIND_LOCALES)
def test_the_subject_names_the_ticket_or_the_service_in_brackets(
    kind: MailKind, locale: str
) -> None:
    mail, data = planned(kind, locale)

    subject = render(mail).subject

    tag = data["outage"]["service"] if "outage" in data else data["ticket"]["number"]
    assert subject.startswith(f"[{tag}] ")
    assert "\n" not in subject


@pytest.mark.parametrize(("kind", "locale"), KIND_LOCALES)
def test_both_parts_say_what_the_reader_needs(kind: MailKind, locale: str) -> None:
    mail, data = planned(kind, locale)
    case = CASES[kind]

    rendered = render(mail)

    shown_html = " ".join(visible(rendered.html).split())
    shown_text = " ".join(rendered.text.split())
    for needed in [*case.content(data), *case.wording[locale]]:
        assert " ".join(needed.split()) in shown_text, f"text lacks {needed!r}"
        in_html = " ".join(needed.split()) in shown_html or needed in html.unescape(rendered.html)
        assert in_html, f"HTML lacks {needed!r}"


@pytest.mark.parametrize(("kind", "locale"), KIND_LOCALES)
def test_the_html_part_is_a_well_formed_document_in_the_right_language(
    kind: MailKind, locale: str
) -> None:
    mail, _ = planned(kind, locale)

    rendered = render(mail)
    checked = check_html(rendered.html)

    assert checked.problems == []
    assert checked.has_doctype
    assert checked.lang == locale
    assert checked.title == rendered.subject


@pytest.mark.parametrize(("kind", "locale"), KIND_LOCALES)
def test_the_text_part_has_no_html(kind: MailKind, locale: str) -> None:
    mail, _ = planned(kind, locale)

    text = render(mail).text

    assert TAG.search(text) is None
    assert "&amp;" not in text
    assert "&lt;" not in text


FREE_TEXT = {
    "title",
    "number",
    "service",
    "group",
    "requester_name",
    "requester_email",
    "assignee_name",
    "recipient_name",
    "resolution",
    "note",
    "comment",
    "message",
    "description",
}


def inject(value: Any, payload: str) -> Any:
    """`value` with `payload` appended to every free-text field, however deep."""
    if isinstance(value, dict):
        return {
            key: f"{item} {payload}"
            if key in FREE_TEXT and isinstance(item, str)
            else inject(item, payload)
            for key, item in value.items()
        }
    return value


@pytest.mark.parametrize(("kind", "locale"), KIND_LOCALES)
def test_user_text_is_escaped_in_html(kind: MailKind, locale: str) -> None:
    script = "<script>alert(1)</script>"
    mail, _ = planned(kind, locale)
    context = inject({**mail.context, "recipient_name": "Ada"}, script)

    rendered = render(replace(mail, context=context))

    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert script in rendered.subject


def test_a_title_spanning_lines_still_gives_a_one_line_subject() -> None:
    mail, _ = planned(MailKind.TICKET_OPENED, "en")
    context = {**mail.context, "ticket": {**mail.context["ticket"], "title": "Printer\r\nBcc: x"}}

    subject = render(replace(mail, context=context)).subject

    assert subject == "[INC0000123] We received your request: Printer Bcc: x"


def test_the_ticket_opened_mail_has_no_tracking_links() -> None:
    mail, _ = planned(MailKind.TICKET_OPENED, "en")

    rendered = render(mail)

    assert "http" not in rendered.text
    assert "<a " not in rendered.html
    assert "<img" not in rendered.html


@pytest.mark.parametrize(
    ("locale", "shown"),
    [
        ("en", "Tuesday 14 May 2024, 09:30 (Europe/Paris)"),
        ("fr", "mardi 14 mai 2024 à 09:30 (Europe/Paris)"),
    ],
)
def test_times_are_shown_in_the_recipients_time_zone(locale: str, shown: str) -> None:
    mail, _ = planned(MailKind.TICKET_OPENED, locale)

    rendered = render(replace(mail, timezone="Europe/Paris"))

    assert shown in rendered.text
    assert shown in visible(rendered.html)


@pytest.mark.parametrize(
    ("next_step", "promised"),
    [
        ("reminder", "we will send you another reminder"),
        ("manager_escalation", "we will contact your manager, Charles Babbage,"),
        ("auto_resolve", "we will resolve the ticket for lack of response"),
    ],
)
def test_a_reminder_says_what_happens_without_an_answer(next_step: str, promised: str) -> None:
    requester = f.person_ref(manager_name="Charles Babbage", timezone="UTC")
    data = f.reminder(next_step=next_step, ticket=f.waiting_ticket(requester=requester))
    [mail] = f.plan_mails(
        T.ESCALATION_REMINDER,
        data,
        event_id="e",
        event_time=datetime(2024, 5, 14, tzinfo=UTC),
        survey_base_url=f.SURVEY_BASE_URL,
    )

    text = " ".join(render(mail).text.split())

    assert f"If we do not hear from you by Thursday 16 May 2024, 07:30 (UTC), {promised}" in text


@pytest.mark.parametrize(
    ("reason", "heading"),
    [
        ("info_requested", "We need information from you"),
        ("user_validation", "Please check our fix"),
        ("user_response", "We are waiting for your reply"),
    ],
)
def test_the_waiting_reason_decides_what_we_ask(reason: str, heading: str) -> None:
    data = f.status_changed("in_progress", "waiting_on_user", reason=reason, note="Hi")
    [mail] = f.plan_mails(
        T.TICKET_STATUS_CHANGED,
        data,
        event_id="e",
        event_time=datetime(2024, 5, 14, tzinfo=UTC),
        survey_base_url=f.SURVEY_BASE_URL,
    )

    rendered = render(mail)

    assert rendered.subject.startswith(f"[INC0000123] {heading}: ")
    assert heading in visible(rendered.html)


def test_a_resolution_for_lack_of_response_says_so_and_how_to_reopen() -> None:
    data = f.status_changed(
        "waiting_on_user", "resolved", reason="no_response", note="No answer after 2 reminders."
    )
    [mail] = f.plan_mails(
        T.TICKET_STATUS_CHANGED,
        data,
        event_id="e",
        event_time=datetime(2024, 5, 14, tzinfo=UTC),
        survey_base_url=f.SURVEY_BASE_URL,
    )

    text = " ".join(render(mail).text.split())

    assert "because we did not hear back from you" in text
    assert "No answer after 2 reminders." in text
    assert "Reply to this email with your answer and the ticket reopens at once" in text


def test_the_desk_manager_is_told_why_the_escalation_reached_them() -> None:
    mail, _ = planned(MailKind.MANAGER_ESCALATION, "en")
    context = {**mail.context, "to_desk_manager": True, "no_manager_on_record": True}

    text = render(replace(mail, context=context)).text

    assert "You receive this as desk manager: no manager is on record for Ada Lovelace." in text


@pytest.mark.parametrize("locale", ["de", "fr-CA", "", "xx_YY"])
def test_an_unsupported_locale_falls_back_to_its_language_or_english(locale: str) -> None:
    mail, _ = planned(MailKind.CLOSED, "en")

    rendered = render(replace(mail, locale=locale))

    expected = "fr" if locale.startswith("fr") else "en"
    assert check_html(rendered.html).lang == expected


def test_a_language_missing_a_template_falls_back_to_english(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "fr").mkdir()
    for name in ("closed.subject.j2", "closed.txt.j2", "closed.html.j2"):
        source = DEFAULT_TEMPLATES_DIR / "en" / name
        (tmp_path / "en" / name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    for name in ("_words.j2", "_signature.txt.j2", "_footer.html.j2"):
        for loc in ("en", "fr"):
            source = DEFAULT_TEMPLATES_DIR / loc / name
            (tmp_path / loc / name).write_text(source.read_text(encoding="utf-8"), "utf-8")
    for name in ("base.html.j2", "_macros.html.j2"):
        (tmp_path / name).write_text((DEFAULT_TEMPLATES_DIR / name).read_text("utf-8"), "utf-8")
    mail, _ = planned(MailKind.CLOSED, "fr")

    rendered = render(mail, tmp_path)

    assert rendered.subject.startswith("[INC0000123] Closed: ")


def test_a_garbled_time_is_shown_as_received_rather_than_losing_the_mail() -> None:
    mail, _ = planned(MailKind.REMINDER, "en")

    text = render(replace(mail, context={**mail.context, "deadline": "next Tuesday"})).text

    assert "If we do not hear from you by next Tuesday," in " ".join(text.split())


# --- answering from the mail --------------------------------------------------------------

# Words that would send a requester looking for a portal that does not exist, or tell them
# their reply is lost: no mail may say them.
NEVER_SAID = {
    "en": ["not read", "portal", "do not reach", "does not reach", "no-reply", "noreply"],
    "fr": ["pas lues", "portail", "ne nous parviennent pas", "ne parviennent pas"],
}
# What the footer of every mail says a reply does.
FOOTER = {
    Audience.REQUESTER: {
        "en": "Replies to this email reach us: simply reply to add anything to ticket INC0000123.",
        "fr": "Vos réponses à ce message nous parviennent : répondez simplement pour compléter "
        "le ticket INC0000123.",
    },
    Audience.DESK: {
        "en": "your reply is added to ticket INC0000123 as a note for the agents",
        "fr": "elles sont ajoutées au ticket INC0000123 comme note pour les techniciens",
    },
    Audience.SUBSCRIBER: {
        "en": "Replies to this email reach the service desk.",
        "fr": "Vos réponses à ce message parviennent au centre de services.",
    },
}
HOW_TO_REPLY = {"en": "reply to this email", "fr": "répondez à ce message"}


def both_parts(mail: PlannedMail) -> tuple[str, str]:
    """(text, visible HTML), whitespace collapsed."""
    rendered = render(mail)
    return " ".join(rendered.text.split()), " ".join(visible(rendered.html).split())


@pytest.mark.parametrize(("kind", "locale"), KIND_LOCALES)
def test_no_mail_says_replies_are_unread_or_sends_people_to_a_portal(
    kind: MailKind, locale: str
) -> None:
    mail, _ = planned(kind, locale)

    for part in both_parts(mail):
        for words in NEVER_SAID[locale]:
            assert words not in part.lower()


@pytest.mark.parametrize(("kind", "locale"), KIND_LOCALES)
def test_every_footer_says_what_a_reply_does(kind: MailKind, locale: str) -> None:
    mail, _ = planned(kind, locale)
    if kind == MailKind.CLOSED:
        expected = FOOTER[Audience.SUBSCRIBER][locale]  # a closed ticket takes nothing more
    else:
        expected = FOOTER[audience(kind)][locale]

    text, shown_html = both_parts(mail)

    assert expected in text
    assert expected in shown_html


REQUESTER_KINDS_ASKED_TO_REPLY = [
    pytest.param(kind, locale, id=f"{kind}-{locale}")
    for kind in (
        MailKind.TICKET_OPENED,
        MailKind.INFO_REQUESTED,
        MailKind.REMINDER,
        MailKind.USER_RESPONSE_RECEIVED,
        MailKind.RESOLVED,
    )
    for locale in SUPPORTED_LOCALES
]


@pytest.mark.parametrize(("kind", "locale"), REQUESTER_KINDS_ASKED_TO_REPLY)
def test_requester_mails_say_in_the_body_that_a_reply_is_the_way_to_answer(
    kind: MailKind, locale: str
) -> None:
    mail, _ = planned(kind, locale)

    for part in both_parts(mail):
        body = part.split(" -- ")[0]  # the text part's signature says it too: not counted
        assert HOW_TO_REPLY[locale] in body.lower()


ONE_CLICK = {
    "en": ("Yes, it works", "No, it still fails"),
    "fr": ("Oui, ça fonctionne", "Non, le problème persiste"),
}


@pytest.mark.parametrize("event_type", [T.TICKET_STATUS_CHANGED, T.ESCALATION_REMINDER])
@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_a_fix_to_check_has_one_click_yes_and_no_links_in_both_parts(
    locale: str, event_type: str
) -> None:
    ticket = f.waiting_ticket("user_validation", requester=who(locale))
    if event_type == T.TICKET_STATUS_CHANGED:
        data = f.status_changed(
            "in_progress", "waiting_on_user", ticket=ticket, reason="user_validation"
        )
    else:
        data = f.reminder(ticket=ticket)
    [mail] = f.plan_mails(
        event_type,
        data,
        event_id="e",
        event_time=datetime(2024, 5, 14, tzinfo=UTC),
        survey_base_url=f.SURVEY_BASE_URL,
        link_key=f.LINK_KEY,
    )
    yes_label, no_label = ONE_CLICK[locale]

    rendered = render(mail)

    url = answer_url(data)
    # "Label: link" (English) / "Label : link" (French), one per line of the text part.
    assert re.search(rf"^  {yes_label} ?: {re.escape(url)}\?answer=yes$", rendered.text, re.M)
    assert re.search(rf"^  {no_label} ?: {re.escape(url)}\?answer=no$", rendered.text, re.M)
    assert re.search(rf'<a href="{re.escape(url)}\?answer=yes"[^>]*>{yes_label}</a>', rendered.html)
    assert re.search(rf'<a href="{re.escape(url)}\?answer=no"[^>]*>{no_label}</a>', rendered.html)
    token = url.rpartition("/a/")[2]
    ref = read_answer_token(f.LINK_KEY, token)
    assert ref is not None
    assert str(ref.ticket_id) == ticket["id"]


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_a_question_without_a_named_wait_still_says_how_to_reply(locale: str) -> None:
    ticket = f.waiting_ticket(requester=who(locale), waiting_since=None)
    data = f.status_changed(
        "in_progress", "waiting_on_user", ticket=ticket, reason="info_requested"
    )
    [mail] = f.plan_mails(
        T.TICKET_STATUS_CHANGED,
        data,
        event_id="e",
        event_time=datetime(2024, 5, 14, tzinfo=UTC),
        survey_base_url=f.SURVEY_BASE_URL,
        link_key=f.LINK_KEY,
    )

    rendered = render(mail)

    assert "/a/" not in rendered.text
    assert "<a " not in rendered.html
    for part in both_parts(mail):
        assert HOW_TO_REPLY[locale] in part.lower()


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("en", "We opened ticket INC0000123 from your email"),
        ("fr", "Nous avons ouvert le ticket INC0000123 à partir de votre message"),
    ],
)
def test_the_confirmation_of_a_mail_says_we_opened_the_ticket_from_it(
    locale: str, said: str
) -> None:
    ticket = f.ticket_snapshot(status="new", requester=who(locale))
    data = f.ticket_created(ticket, channel="email", source_message_id="<m-1@mail.example.test>")
    [mail] = f.plan_mails(
        T.TICKET_CREATED,
        data,
        event_id="e",
        event_time=datetime(2024, 5, 14, tzinfo=UTC),
        survey_base_url=f.SURVEY_BASE_URL,
    )

    rendered = render(mail)

    assert said in " ".join(rendered.text.split())
    assert said in " ".join(visible(rendered.html).split())
    assert not rendered.subject.lower().startswith("re:")
    assert "INC0000123" in rendered.subject


@pytest.mark.parametrize(
    "kind", [MailKind.INFO_REQUESTED, MailKind.REMINDER, MailKind.TICKET_OPENED]
)
def test_a_row_stored_before_answer_links_existed_still_renders(kind: MailKind) -> None:
    mail, _ = planned(kind, "en")
    older = {
        k: v for k, v in mail.context.items() if k not in ("answer", "from_email", "in_reply_to")
    }

    rendered = render(replace(mail, context=older))

    assert "reply to this email" in rendered.text.lower()


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("en", "Thank you for confirming that it works: ticket INC0000123"),
        ("fr", "Merci d'avoir confirmé que tout fonctionne : le ticket INC0000123"),
    ],
)
def test_a_fix_the_requester_confirmed_thanks_them(locale: str, said: str) -> None:
    ticket = f.ticket_snapshot(requester=who(locale), resolution=RESOLUTION)
    data = f.status_changed(
        "waiting_on_user", "resolved", ticket=ticket, reason="confirmed_by_requester"
    )
    [mail] = f.plan_mails(
        T.TICKET_STATUS_CHANGED,
        data,
        event_id="e",
        event_time=datetime(2024, 5, 14, tzinfo=UTC),
        survey_base_url=f.SURVEY_BASE_URL,
    )

    text, shown_html = both_parts(mail)

    assert said in text
    assert said in shown_html
