"""Which mails each event causes, and to whom."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stopclock_notification.consumers import routes
from stopclock_notification.domain import MAILED_EVENT_TYPES, Desk, plan_mails
from stopclock_notification.domain.kinds import MailKind
from stopclock_notification.domain.planned_mail import PlannedMail
from stopclock_notification.models import outbox
from stopclock_notification.state import NotificationState
from stopclock_shared.events.codec import MalformedMessage
from stopclock_shared.events.contract import CONTRACT
from stopclock_shared.events.envelope import new_envelope
from stopclock_shared.events.types import EventType as T
from stopclock_shared.links import read_answer_token, same_wait
from stopclock_shared.outbox import Outbox

from . import factories as f

EVENT_TIME = datetime(2024, 5, 14, 8, 0, tzinfo=UTC)
DESK = "desk.manager@example.test"


def plan(
    event_type: str, data: Any, event_id: str = "evt-1", link_key: bytes = f.LINK_KEY
) -> list[PlannedMail]:
    return f.plan_mails(
        event_type,
        data,
        event_id=event_id,
        event_time=EVENT_TIME,
        survey_base_url=f.SURVEY_BASE_URL,
        link_key=link_key,
    )


def requester(data: dict[str, Any]) -> str:
    return str(data["ticket"]["requester"]["email"])


def assignee(data: dict[str, Any]) -> str:
    return str(data["ticket"]["assignee"]["email"])


def manager(data: dict[str, Any]) -> str:
    return str(data["manager"]["email"])


def subscribers(data: dict[str, Any]) -> list[str]:
    return [s["email"] for s in data["subscribers"]]


# (event type, payload, expected kind, who gets it)
RECIPIENT_CASES: list[
    tuple[str, str, Callable[[], dict[str, Any]], MailKind, Callable[[dict[str, Any]], list[str]]]
] = [
    (
        "a new ticket confirms to its requester",
        T.TICKET_CREATED,
        f.ticket_created,
        MailKind.TICKET_OPENED,
        lambda d: [requester(d)],
    ),
    (
        "a question to the requester goes to the requester",
        T.TICKET_STATUS_CHANGED,
        lambda: f.status_changed("in_progress", "waiting_on_user", reason="info_requested"),
        MailKind.INFO_REQUESTED,
        lambda d: [requester(d)],
    ),
    (
        "a fix to validate goes to the requester",
        T.TICKET_STATUS_CHANGED,
        lambda: f.status_changed("in_progress", "waiting_on_user", reason="user_validation"),
        MailKind.INFO_REQUESTED,
        lambda d: [requester(d)],
    ),
    (
        "a wait for a reply goes to the requester",
        T.TICKET_STATUS_CHANGED,
        lambda: f.status_changed("in_progress", "waiting_on_user", reason="user_response"),
        MailKind.INFO_REQUESTED,
        lambda d: [requester(d)],
    ),
    (
        "the requester's own answer is confirmed to them",
        T.TICKET_STATUS_CHANGED,
        lambda: f.status_changed("waiting_on_user", "in_progress", reason="requester_answered"),
        MailKind.USER_RESPONSE_RECEIVED,
        lambda d: [requester(d)],
    ),
    (
        "a resolution goes to the requester",
        T.TICKET_STATUS_CHANGED,
        lambda: f.status_changed("in_progress", "resolved"),
        MailKind.RESOLVED,
        lambda d: [requester(d)],
    ),
    (
        "a closure goes to the requester",
        T.TICKET_STATUS_CHANGED,
        lambda: f.status_changed("resolved", "closed"),
        MailKind.CLOSED,
        lambda d: [requester(d)],
    ),
    (
        "a reminder goes to the requester",
        T.ESCALATION_REMINDER,
        f.reminder,
        MailKind.REMINDER,
        lambda d: [requester(d)],
    ),
    (
        "a manager escalation goes to the manager only",
        T.ESCALATION_MANAGER,
        f.manager_escalation,
        MailKind.MANAGER_ESCALATION,
        lambda d: [manager(d)],
    ),
    (
        "a manager escalation without a manager goes to the desk manager",
        T.ESCALATION_MANAGER,
        lambda: f.manager_escalation(manager=None, to_desk_manager=True),
        MailKind.MANAGER_ESCALATION,
        lambda d: [DESK],
    ),
    (
        "a manager escalation meant for the desk manager skips the line manager",
        T.ESCALATION_MANAGER,
        lambda: f.manager_escalation(to_desk_manager=True),
        MailKind.MANAGER_ESCALATION,
        lambda d: [DESK],
    ),
    (
        "an SLA warning goes to the assignee",
        T.ESCALATION_SLA,
        lambda: f.sla_escalation("warning"),
        MailKind.SLA_WARNING,
        lambda d: [assignee(d)],
    ),
    (
        "an SLA warning on an unassigned ticket goes to the desk manager",
        T.ESCALATION_SLA,
        lambda: f.sla_escalation(
            "warning", ticket=f.ticket_snapshot(assignee=None, assignee_id=None)
        ),
        MailKind.SLA_WARNING,
        lambda d: [DESK],
    ),
    (
        "an SLA breach goes to the assignee and the desk manager",
        T.ESCALATION_SLA,
        lambda: f.sla_escalation("breach"),
        MailKind.SLA_BREACHED,
        lambda d: [assignee(d), DESK],
    ),
    (
        "an SLA breach on an unassigned ticket goes to the desk manager",
        T.ESCALATION_SLA,
        lambda: f.sla_escalation("breach", ticket=f.ticket_snapshot(assignee=None)),
        MailKind.SLA_BREACHED,
        lambda d: [DESK],
    ),
    (
        "negative feedback goes to the desk manager",
        T.ESCALATION_NEGATIVE_FEEDBACK,
        f.negative_feedback,
        MailKind.NEGATIVE_FEEDBACK,
        lambda d: [DESK],
    ),
    (
        "a survey goes to the requester",
        T.SURVEY_REQUESTED,
        f.survey_requested,
        MailKind.SURVEY_INVITATION,
        lambda d: [requester(d)],
    ),
    (
        "an outage notice goes to every subscriber",
        T.OUTAGE_DECLARED,
        lambda: f.outage_event(subscribers=[f.person_ref(), f.person_ref(), f.person_ref()]),
        MailKind.OUTAGE_NOTICE,
        subscribers,
    ),
    (
        "an outage update goes to every subscriber",
        T.OUTAGE_UPDATED,
        lambda: f.outage_event(subscribers=[f.person_ref(), f.person_ref()]),
        MailKind.OUTAGE_UPDATE,
        subscribers,
    ),
    (
        "an outage end goes to every subscriber",
        T.OUTAGE_RESOLVED,
        lambda: f.outage_event(subscribers=[f.person_ref(), f.person_ref()]),
        MailKind.OUTAGE_RESOLVED,
        subscribers,
    ),
]


@pytest.mark.parametrize(
    ("event_type", "make_data", "kind", "recipients"),
    [pytest.param(*case[1:], id=case[0]) for case in RECIPIENT_CASES],
)
def test_each_event_mails_the_right_people(
    event_type: str,
    make_data: Callable[[], dict[str, Any]],
    kind: MailKind,
    recipients: Callable[[dict[str, Any]], list[str]],
) -> None:
    data = make_data()

    mails = plan(event_type, data)

    assert [(m.kind, m.recipient_email) for m in mails] == [
        (kind, email) for email in recipients(data)
    ]


@pytest.mark.parametrize(
    "event_type",
    [
        pytest.param(t, id=t.value)
        for t in sorted(CONTRACT, key=lambda t: t.value)
        if t not in MAILED_EVENT_TYPES
    ],
)
def test_events_without_mails_plan_nothing(event_type: T) -> None:
    payload = f.payload_of(T.TICKET_CREATED, f.ticket_created())

    assert plan_mails(event_type, payload, event_id="e", event_time=EVENT_TIME, desk=Desk("")) == []


@pytest.mark.parametrize("event_type", ["stopclock.ticket.created.v2", "something.else"])
def test_unknown_event_types_plan_nothing(event_type: str) -> None:
    payload = f.payload_of(T.TICKET_CREATED, f.ticket_created())

    assert plan_mails(event_type, payload, event_id="e", event_time=EVENT_TIME, desk=Desk("")) == []


def test_sla_facts_and_negative_surveys_are_mailed_only_through_escalations() -> None:
    unmailed = {T.SLA_BREACHED, T.SLA_WARNING, T.SURVEY_NEGATIVE, T.ESCALATION_AUTO_RESOLVE}

    assert not unmailed & MAILED_EVENT_TYPES
    assert {T.ESCALATION_SLA, T.ESCALATION_NEGATIVE_FEEDBACK} <= MAILED_EVENT_TYPES


@pytest.mark.parametrize(
    ("from_status", "to_status", "reason", "actor_is_requester"),
    [
        pytest.param("new", "assigned", None, False, id="assignment"),
        pytest.param("assigned", "in_progress", None, False, id="work starts"),
        pytest.param("waiting_on_user", "in_progress", None, False, id="agent resumes"),
        pytest.param("resolved", "in_progress", None, True, id="reopen"),
        pytest.param("in_progress", "cancelled", None, False, id="cancel"),
    ],
)
def test_status_changes_that_tell_the_requester_nothing_new_plan_nothing(
    from_status: str, to_status: str, reason: str | None, actor_is_requester: bool
) -> None:
    ticket = f.ticket_snapshot()
    actor = ticket["requester"]["id"] if actor_is_requester else None
    data = f.status_changed(from_status, to_status, ticket=ticket, reason=reason, actor_id=actor)

    assert plan(T.TICKET_STATUS_CHANGED, data) == []


def test_an_answer_is_recognised_by_the_actor_being_the_requester() -> None:
    ticket = f.ticket_snapshot()
    data = f.status_changed(
        "waiting_on_user",
        "in_progress",
        ticket=ticket,
        actor_id=ticket["requester"]["id"],
        actor_roles=["requester"],
    )

    assert [m.kind for m in plan(T.TICKET_STATUS_CHANGED, data)] == [
        MailKind.USER_RESPONSE_RECEIVED
    ]


def test_info_requested_carries_the_agents_note_verbatim_and_the_reason() -> None:
    note = "Which printer model is it?\n  (see the sticker on the back)"
    data = f.status_changed("in_progress", "waiting_on_user", reason="user_validation", note=note)

    [mail] = plan(T.TICKET_STATUS_CHANGED, data)

    assert mail.context["note"] == note
    assert mail.context["reason"] == "user_validation"


def test_an_unknown_waiting_reason_still_asks_the_requester() -> None:
    data = f.status_changed("in_progress", "waiting_on_user", reason="vendor_hold", note="Hi")

    [mail] = plan(T.TICKET_STATUS_CHANGED, data)

    assert mail.context["reason"] == "user_response"


@pytest.mark.parametrize(
    ("reason", "auto_resolved", "confirmed"),
    [
        ("no_response", True, False),
        ("confirmed_by_requester", False, True),
        (None, False, False),
        ("fixed", False, False),
    ],
)
def test_a_resolution_says_whether_it_was_for_lack_of_response_or_confirmed(
    reason: str | None, auto_resolved: bool, confirmed: bool
) -> None:
    ticket = f.ticket_snapshot(resolution="Replaced the fuser unit.")
    data = f.status_changed("in_progress", "resolved", ticket=ticket, reason=reason)

    [mail] = plan(T.TICKET_STATUS_CHANGED, data)

    assert mail.context["auto_resolved"] is auto_resolved
    assert mail.context["confirmed"] is confirmed
    assert mail.context["resolution"] == "Replaced the fuser unit."


def test_a_reminder_carries_its_rank_and_what_happens_without_an_answer() -> None:
    data = f.reminder(level=2, of=3, next_step="auto_resolve")

    [mail] = plan(T.ESCALATION_REMINDER, data)

    assert (mail.context["level"], mail.context["of"]) == (2, 3)
    assert mail.context["next_step"] == "auto_resolve"
    assert mail.context["deadline"] == data["deadline"]


def test_a_survey_invitation_has_five_one_click_rating_links() -> None:
    data = f.survey_requested()

    [mail] = plan(T.SURVEY_REQUESTED, data)

    assert mail.context["survey_url"] == data["url"]
    assert [link["url"] for link in mail.context["rating_links"]] == [
        f"{data['url']}?rating={n}" for n in range(1, 6)
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(" ", f"{f.SURVEY_BASE_URL}/s/TOKEN", id="blank url: built from token"),
        pytest.param("/s/TOKEN", f"{f.SURVEY_BASE_URL}/s/TOKEN", id="relative url"),
        pytest.param("https://elsewhere.test/s/T", "https://elsewhere.test/s/T", id="absolute"),
    ],
)
def test_the_survey_link_is_absolute(url: str | None, expected: str) -> None:
    data = f.survey_requested(url=url, token="TOKEN")

    [mail] = plan(T.SURVEY_REQUESTED, data)

    assert mail.context["survey_url"] == expected


def test_rating_links_extend_a_query_string_already_in_the_url() -> None:
    data = f.survey_requested(url="https://s.test/s/T?lang=fr")

    [mail] = plan(T.SURVEY_REQUESTED, data)

    assert mail.context["rating_links"][0]["url"] == "https://s.test/s/T?lang=fr&rating=1"


def test_a_mail_takes_the_recipients_locale_and_time_zone() -> None:
    ticket = f.ticket_snapshot(requester=f.person_ref(locale="fr-CA", timezone="America/Toronto"))

    [mail] = plan(T.TICKET_CREATED, f.ticket_created(ticket))

    assert (mail.locale, mail.timezone) == ("fr", "America/Toronto")
    assert mail.recipient_id == ticket["requester"]["id"]
    assert mail.ticket_id == ticket["id"]


def test_the_desk_manager_is_written_to_in_the_desks_language() -> None:
    mails = f.plan_mails(
        T.ESCALATION_NEGATIVE_FEEDBACK,
        f.negative_feedback(),
        event_id="e",
        event_time=EVENT_TIME,
        survey_base_url=f.SURVEY_BASE_URL,
        desk_locale="fr",
        desk_timezone="Europe/Paris",
    )

    assert [(m.locale, m.timezone, m.recipient_id) for m in mails] == [("fr", "Europe/Paris", None)]


def test_the_dedupe_key_names_event_kind_and_recipient() -> None:
    data = f.ticket_created()

    [mail] = plan(T.TICKET_CREATED, data, event_id="evt-42")

    assert mail.dedupe_key == f"evt-42:ticket_opened:{requester(data)}"


def test_a_redelivered_event_plans_the_same_mails() -> None:
    data = f.sla_escalation("breach")

    assert plan(T.ESCALATION_SLA, data) == plan(T.ESCALATION_SLA, data)


def test_one_person_in_two_roles_gets_one_mail() -> None:
    ticket = f.ticket_snapshot(assignee=f.person_ref(email=DESK.upper()))

    mails = plan(T.ESCALATION_SLA, f.sla_escalation("breach", ticket=ticket))

    assert [m.recipient_email for m in mails] == [DESK.upper()]


def test_outage_subscribers_without_address_or_listed_twice_get_at_most_one_mail() -> None:
    twice = f.person_ref()
    data = f.outage_event(subscribers=[twice, f.person_ref(email=" "), twice])

    mails = plan(T.OUTAGE_DECLARED, data)

    assert [m.recipient_email for m in mails] == [twice["email"]]
    assert mails[0].ticket_id is None


def test_a_requester_without_address_gets_no_mail() -> None:
    ticket = f.ticket_snapshot(requester=f.person_ref(email=""))

    assert plan(T.TICKET_CREATED, f.ticket_created(ticket)) == []


def test_the_context_is_plain_json_even_from_python_objects() -> None:
    created = datetime(2024, 5, 14, 7, 30, tzinfo=UTC)
    ticket = f.ticket_snapshot(created_at=created)

    [mail] = plan(T.TICKET_CREATED, f.ticket_created(ticket))

    assert mail.context["ticket"]["created_at"] == "2024-05-14T07:30:00+00:00"
    assert mail.context["event_time"] == EVENT_TIME.isoformat()


@pytest.mark.parametrize(
    ("event_type", "data", "missing"),
    [
        pytest.param(T.TICKET_CREATED, {}, "ticket", id="no ticket"),
        pytest.param(T.TICKET_CREATED, {"ticket": "INC1"}, "ticket", id="ticket not object"),
        pytest.param(
            T.TICKET_CREATED,
            {"ticket": {**f.ticket_snapshot(), "number": None}},
            "ticket.number",
            id="no number",
        ),
        pytest.param(
            T.TICKET_STATUS_CHANGED, {"ticket": f.ticket_snapshot()}, "to_status", id="no status"
        ),
        pytest.param(
            T.ESCALATION_REMINDER, {**f.reminder(), "level": "first"}, "level", id="bad level"
        ),
        pytest.param(T.OUTAGE_DECLARED, {"subscribers": []}, "outage", id="no outage"),
        pytest.param(
            T.ESCALATION_REMINDER,
            {**f.reminder(), "ticket": {**f.waiting_ticket(), "title": None}},
            "ticket.title",
            id="reminder ticket without title",
        ),
        pytest.param(T.ESCALATION_SLA, f.sla_escalation("overdue"), "kind", id="unknown sla kind"),
    ],
)
def test_malformed_events_are_refused_by_the_consumer_with_the_field_named(
    event_type: T, data: dict[str, Any], missing: str
) -> None:
    route = routes(Outbox(outbox, "notification"), Desk(""), NotificationState()).get(event_type)
    assert route is not None
    envelope = new_envelope(event_type, source="test", subject="t", time=EVENT_TIME, data=data)

    with pytest.raises(MalformedMessage, match=missing):
        route.decode(envelope)


def test_the_consumer_routes_every_mailed_event_type() -> None:
    table = routes(Outbox(outbox, "notification"), Desk(""), NotificationState())

    tickets_events = {t for t, entry in CONTRACT.items() if entry.topic == "tickets.events"}
    assert table.types == MAILED_EVENT_TYPES | tickets_events | {T.PERSON_UPDATED}


# --- answering from the mail --------------------------------------------------------------


def answer_ref(url: str, ticket_id: str) -> datetime:
    """The wait an answer-page link names, after checking it is ours and for this ticket."""
    base, _, token = url.partition("?")[0].rpartition("/a/")
    assert base == f.SURVEY_BASE_URL
    ref = read_answer_token(f.LINK_KEY, token)
    assert ref is not None, f"{url} is not signed with our key"
    assert ref.ticket_id == UUID(ticket_id)
    return ref.waiting_since


@pytest.mark.parametrize("reason", ["info_requested", "user_validation", "user_response"])
def test_a_question_links_to_the_answer_page_of_that_very_wait(reason: str) -> None:
    data = f.status_changed("in_progress", "waiting_on_user", reason=reason, note="Which model?")

    [mail] = plan(T.TICKET_STATUS_CHANGED, data)

    waited = answer_ref(mail.context["answer"]["url"], data["ticket"]["id"])
    assert same_wait(waited, datetime.fromisoformat(f.WAIT_START))


@pytest.mark.parametrize(
    ("reason", "one_click"),
    [("user_validation", True), ("info_requested", False), ("user_response", False)],
)
def test_only_a_fix_to_check_gets_the_yes_and_no_links(reason: str, one_click: bool) -> None:
    data = f.status_changed("in_progress", "waiting_on_user", reason=reason)

    [mail] = plan(T.TICKET_STATUS_CHANGED, data)

    answer = mail.context["answer"]
    if one_click:
        assert answer["yes"] == f"{answer['url']}?answer=yes"
        assert answer["no"] == f"{answer['url']}?answer=no"
    else:
        assert (answer["yes"], answer["no"]) == (None, None)


@pytest.mark.parametrize("reason", ["info_requested", "user_validation"])
def test_a_reminder_links_to_the_same_answer_page_as_the_question(reason: str) -> None:
    ticket = f.waiting_ticket(reason)
    asked = f.status_changed("in_progress", "waiting_on_user", ticket=ticket, reason=reason)

    [question] = plan(T.TICKET_STATUS_CHANGED, asked)
    [reminder] = plan(T.ESCALATION_REMINDER, f.reminder(ticket=ticket))

    assert reminder.context["answer"] == question.context["answer"]


def test_a_new_wait_gets_a_new_link() -> None:
    ticket = f.waiting_ticket()
    later = {**ticket, "waiting_since": "2024-05-20T10:00:00+00:00"}

    [first] = plan(T.ESCALATION_REMINDER, f.reminder(ticket=ticket))
    [second] = plan(T.ESCALATION_REMINDER, f.reminder(ticket=later))

    assert first.context["answer"]["url"] != second.context["answer"]["url"]


@pytest.mark.parametrize(
    ("waiting_since", "link_key"),
    [
        pytest.param(None, f.LINK_KEY, id="wait not named yet"),
        pytest.param(f.WAIT_START, b"", id="no key to sign with"),
    ],
)
def test_without_a_named_wait_or_a_key_the_mail_asks_for_a_reply_only(
    waiting_since: str | None, link_key: bytes
) -> None:
    ticket = f.waiting_ticket("user_validation", waiting_since=waiting_since)
    data = f.status_changed(
        "in_progress", "waiting_on_user", ticket=ticket, reason="user_validation"
    )

    [mail] = plan(T.TICKET_STATUS_CHANGED, data, link_key=link_key)

    assert mail.context["answer"] == {"url": None, "yes": None, "no": None}


@given(
    since=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    offset_minutes=st.integers(min_value=-12 * 60, max_value=14 * 60),
)
def test_the_link_names_the_wait_whatever_its_time_and_offset(
    since: datetime, offset_minutes: int
) -> None:
    local = since.astimezone(timezone(timedelta(minutes=offset_minutes)))
    ticket = f.waiting_ticket(waiting_since=local.isoformat())

    [mail] = plan(T.ESCALATION_REMINDER, f.reminder(ticket=ticket))

    assert same_wait(answer_ref(mail.context["answer"]["url"], ticket["id"]), since)


@pytest.mark.parametrize(
    ("channel", "source", "threads"),
    [
        pytest.param("email", "<CAF1x@mail.example.test>", True, id="opened by mail"),
        pytest.param("api", "<CAF1x@mail.example.test>", False, id="api ticket"),
        pytest.param("email", None, False, id="mail without a Message-ID"),
    ],
)
def test_the_confirmation_of_a_ticket_opened_by_mail_answers_that_mail(
    channel: str, source: str | None, threads: bool
) -> None:
    data = f.ticket_created(channel=channel, source_message_id=source)

    [mail] = plan(T.TICKET_CREATED, data)

    assert mail.context["from_email"] is threads
    assert mail.context["in_reply_to"] == (source if threads else None)


def test_times_in_the_context_are_plain_rfc3339_text() -> None:
    data = f.reminder()

    [mail] = plan(T.ESCALATION_REMINDER, data)

    assert mail.context["deadline"] == data["deadline"]
    assert isinstance(mail.context["ticket"]["created_at"], str)
