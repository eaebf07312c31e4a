"""Recording the mails of an event (`use_cases.mails.record_mails`) and keeping the replicas
(`use_cases.replicas`), on fakes: what is stored, for whom, what is refused, who is woken."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stopclock_notification.domain import Desk, MailKind
from stopclock_notification.use_cases.mails import Recorded, record_mails
from stopclock_notification.use_cases.replicas import refresh_person, refresh_ticket
from stopclock_notification.written_mails import WrittenMails
from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.people import PersonRef
from stopclock_shared.events.tickets import TicketSnapshot
from stopclock_shared.events.types import EventType as T

from . import factories as f
from .fakes import FakeUow, commit, new_uow

NOW = datetime(2024, 5, 14, 9, 0, 1, tzinfo=UTC)
DESK_MANAGER = "desk.manager@example.test"
DESK = Desk(survey_base_url=f.SURVEY_BASE_URL, locale="fr", timezone="Europe/Paris")


def envelope_of(event_type: T, data: dict[str, Any], event_id: str | None = None) -> Envelope:
    envelope = new_envelope(
        event_type,
        source="tests",
        subject="t",
        time=NOW - timedelta(seconds=1),
        data=data,
        correlation_id="corr-1",
    )
    return envelope.model_copy(update={"id": event_id}) if event_id else envelope


class Woken:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


async def record(
    uow: FakeUow,
    event_type: T,
    data: dict[str, Any],
    woken: Callable[[], None] = lambda: None,
    written: WrittenMails | None = None,
    envelope: Envelope | None = None,
) -> Recorded:
    envelope = envelope or envelope_of(event_type, data)
    return await record_mails(
        uow,
        f.payload_of(event_type, data),
        envelope,
        desk=DESK,
        now=NOW,
        wake_sender=woken,
        written=written,
    )


def stored(uow: FakeUow) -> list[tuple[str, str]]:
    return sorted((m.kind, m.recipient) for m in uow.repo.mails.values())


def requester(data: dict[str, Any]) -> str:
    return str(data["ticket"]["requester"]["email"])


# (case, event type, payload, kinds and recipients stored)
CASES: list[tuple[str, T, Callable[[], dict[str, Any]], Callable[[dict[str, Any]], list[str]]]] = [
    ("a new ticket", T.TICKET_CREATED, f.ticket_created, lambda d: [requester(d)]),
    (
        "a question",
        T.TICKET_STATUS_CHANGED,
        lambda: f.status_changed("in_progress", "waiting_on_user", reason="info_requested"),
        lambda d: [requester(d)],
    ),
    ("a reminder", T.ESCALATION_REMINDER, f.reminder, lambda d: [requester(d)]),
    (
        "a manager escalation",
        T.ESCALATION_MANAGER,
        f.manager_escalation,
        lambda d: [d["manager"]["email"]],
    ),
    (
        "an SLA breach",
        T.ESCALATION_SLA,
        lambda: f.sla_escalation("breach"),
        lambda d: [d["ticket"]["assignee"]["email"], DESK_MANAGER],
    ),
    (
        "negative feedback",
        T.ESCALATION_NEGATIVE_FEEDBACK,
        f.negative_feedback,
        lambda d: [DESK_MANAGER],
    ),
    ("a survey", T.SURVEY_REQUESTED, f.survey_requested, lambda d: [requester(d)]),
    (
        "an outage",
        T.OUTAGE_DECLARED,
        lambda: f.outage_event(subscribers=[f.person_ref(), f.person_ref()]),
        lambda d: [s["email"] for s in d["subscribers"]],
    ),
]
KINDS = {
    T.TICKET_CREATED: MailKind.TICKET_OPENED,
    T.TICKET_STATUS_CHANGED: MailKind.INFO_REQUESTED,
    T.ESCALATION_REMINDER: MailKind.REMINDER,
    T.ESCALATION_MANAGER: MailKind.MANAGER_ESCALATION,
    T.ESCALATION_SLA: MailKind.SLA_BREACHED,
    T.ESCALATION_NEGATIVE_FEEDBACK: MailKind.NEGATIVE_FEEDBACK,
    T.SURVEY_REQUESTED: MailKind.SURVEY_INVITATION,
    T.OUTAGE_DECLARED: MailKind.OUTAGE_NOTICE,
}


@pytest.mark.parametrize(
    ("event_type", "make", "recipients"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
async def test_each_mailed_event_stores_one_pending_mail_per_recipient_at_commit(
    event_type: T,
    make: Callable[[], dict[str, Any]],
    recipients: Callable[[dict[str, Any]], list[str]],
) -> None:
    uow = new_uow()
    data = make()

    recorded = await record(uow, event_type, data)
    assert uow.repo.mails == {}  # nothing is stored before the commit
    commit(uow)

    assert stored(uow) == sorted((KINDS[event_type].value, r) for r in recipients(data))
    assert len(recorded.recorded) == len(recipients(data))
    for mail in uow.repo.mails.values():
        assert (mail.status, mail.attempts, mail.next_attempt_at) == ("pending", 0, NOW)
        assert mail.correlation_id == "corr-1"
        assert mail.event_type == event_type
        assert mail.subject  # written: the subject is the rendered one


async def test_an_event_without_mails_stores_nothing_and_wakes_nobody() -> None:
    uow, woken = new_uow(), Woken()
    data = f.status_changed("new", "assigned")

    recorded = await record(uow, T.TICKET_STATUS_CHANGED, data, woken)
    commit(uow)

    assert recorded == Recorded((), ())
    assert uow.repo.mails == {}
    assert woken.count == 0


async def test_a_recipient_who_opted_out_of_an_optional_kind_gets_none_and_it_is_reported() -> None:
    uow = new_uow()
    data = f.survey_requested()
    person_id = data["ticket"]["requester"]["id"]
    await uow.repo.put_preferences(person_id, ["survey_invitation"], NOW)

    recorded = await record(uow, T.SURVEY_REQUESTED, data)
    commit(uow)

    assert uow.repo.mails == {}
    assert [(m.kind, m.recipient_id) for m in recorded.refused] == [
        (MailKind.SURVEY_INVITATION, person_id)
    ]


async def test_only_the_subscriber_who_opted_out_misses_the_outage_notice() -> None:
    uow = new_uow()
    ada, bob = f.person_ref(), f.person_ref()
    await uow.repo.put_preferences(ada["id"], ["outage_notice"], NOW)

    await record(uow, T.OUTAGE_DECLARED, f.outage_event(subscribers=[ada, bob]))
    commit(uow)

    assert stored(uow) == [("outage_notice", bob["email"])]


async def test_a_mandatory_mail_ignores_a_stale_opt_out() -> None:
    uow = new_uow()
    data = f.ticket_created()
    await uow.repo.put_preferences(data["ticket"]["requester"]["id"], ["ticket_opened"], NOW)

    await record(uow, T.TICKET_CREATED, data)
    commit(uow)

    assert stored(uow) == [("ticket_opened", requester(data))]


async def test_a_commit_of_many_events_wakes_one_sender_once() -> None:
    uow, woken = new_uow(), Woken()

    for _ in range(3):
        await record(uow, T.TICKET_CREATED, f.ticket_created(), woken)
    assert woken.count == 0  # not before the commit
    commit(uow)

    assert len(uow.repo.mails) == 3
    assert woken.count == 1


async def test_a_redelivered_event_stores_nothing_new_and_wakes_nobody() -> None:
    repo_uow, woken = new_uow(), Woken()
    data = f.ticket_created()
    envelope = envelope_of(T.TICKET_CREATED, data)
    await record(repo_uow, T.TICKET_CREATED, data, woken, envelope=envelope)
    commit(repo_uow)
    again = new_uow(repo_uow.repo)

    await record(again, T.TICKET_CREATED, data, woken, envelope=envelope)
    commit(again)

    assert len(again.repo.mails) == 1
    assert woken.count == 1


async def test_each_mail_is_written_once_and_kept_for_this_process_sender() -> None:
    uow, written = new_uow(), WrittenMails()
    data = f.sla_escalation("breach")

    recorded = await record(uow, T.ESCALATION_SLA, data, written=written)

    assert len(written) == 2
    for mail in recorded.recorded:
        kept = written.take(mail.dedupe_key)
        assert kept is not None
        assert kept.subject == mail.subject


async def test_the_desk_manager_is_written_to_in_the_desks_language() -> None:
    uow = new_uow()

    await record(uow, T.ESCALATION_NEGATIVE_FEEDBACK, f.negative_feedback())
    commit(uow)

    [mail] = uow.repo.mails.values()
    assert (mail.locale, mail.timezone, mail.recipient_id) == ("fr", "Europe/Paris", None)


# --- replicas ------------------------------------------------------------------------------


def snapshot(version: int, status: str) -> TicketSnapshot:
    return TicketSnapshot.model_validate(
        f.ticket_snapshot(id="t-1", version=version, status=status)
    )


async def test_the_ticket_replica_keeps_the_newest_version_whatever_the_order() -> None:
    uow = new_uow()

    for version, status in [(1, "new"), (3, "in_progress"), (2, "assigned")]:
        await refresh_ticket(uow, snapshot(version, status))

    replica = uow.repo.tickets["t-1"]
    assert (replica.version, replica.status) == (3, "in_progress")
    assert replica.number == "INC0000123"


async def test_a_person_is_kept_with_their_address_and_name() -> None:
    uow = new_uow()
    person = PersonRef.model_validate(f.person_ref(name="", email="bob@example.test"))

    await refresh_person(uow, person, NOW)

    assert uow.repo.people[person.id] == ("bob@example.test", "bob@example.test", NOW)


async def test_a_person_without_an_address_is_skipped() -> None:
    uow = new_uow()
    person = PersonRef.model_validate(f.person_ref(email=""))

    await refresh_person(uow, person, NOW)

    assert uow.repo.people == {}
