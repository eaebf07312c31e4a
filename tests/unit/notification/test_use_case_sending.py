"""Sending due mails (`sender.MailSender` over `use_cases.sending`) on fakes: a sent mail is
recorded and announced, a refused one retried after its backoff then given up and
announced, an unreachable server never kills a mail, leases are respected."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosmtplib
import pytest

from stopclock_notification.domain import Desk, render
from stopclock_notification.domain.composing import OutgoingMail
from stopclock_notification.domain.message_id import message_id_for
from stopclock_notification.repository import Accepted, StoredMail
from stopclock_notification.sender import MailSender
from stopclock_notification.settings import NotificationSettings
from stopclock_notification.use_cases.mails import record_mails
from stopclock_notification.use_cases.sending import (
    Attempt,
    claim_due,
    planned_of,
    record_outcomes,
    written_mail,
)
from stopclock_notification.written_mails import WrittenMails
from stopclock_shared.events.envelope import new_envelope
from stopclock_shared.events.topics import NOTIFICATIONS_EVENTS
from stopclock_shared.events.types import EventType as T

from . import factories as f
from .fakes import FakeSmtp, FakeUnits, commit, new_uow

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
DESK = Desk(survey_base_url=f.SURVEY_BASE_URL)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def settings(**overrides: Any) -> NotificationSettings:
    fields: dict[str, Any] = {
        "mail_max_attempts": 3,
        "mail_lease_seconds": 30.0,
        "smtp_timeout_seconds": 5.0,
        "mail_batch_size": 10,
        **overrides,
    }
    return NotificationSettings(**fields)


async def recorded(units: FakeUnits, n: int = 1, written: WrittenMails | None = None) -> None:
    """``n`` ticket confirmations recorded by the consumer's use case, committed at T0."""
    uow = new_uow(units.repo)
    for _ in range(n):
        data = f.ticket_created()
        envelope = new_envelope(T.TICKET_CREATED, source="t", subject="t", time=T0, data=data)
        payload = f.payload_of(T.TICKET_CREATED, data)
        await record_mails(
            uow, payload, envelope, desk=DESK, now=T0, wake_sender=lambda: None, written=written
        )
    commit(uow)


def sender(
    units: FakeUnits, smtp: FakeSmtp, clock: Clock, written: WrittenMails | None = None, **kw: Any
) -> MailSender:
    return MailSender(
        units=units,
        settings=settings(**kw),
        transport=smtp,
        wake=__import__("asyncio").Event(),
        clock=clock,
        jitter=lambda: 0.5,
        written=written,
    )


def only(units: FakeUnits) -> StoredMail:
    [mail] = units.repo.mails.values()
    return mail


def refuse(mail: OutgoingMail) -> None:
    raise aiosmtplib.SMTPRecipientRefused(550, "no such user", mail.recipients[0])


def unreachable(_: OutgoingMail) -> None:
    raise aiosmtplib.SMTPConnectError("connection refused")


async def test_a_due_mail_is_sent_once_recorded_as_sent_and_announced() -> None:
    units, smtp, clock = FakeUnits(), FakeSmtp(), Clock(T0 + timedelta(seconds=1))
    await recorded(units)

    assert await sender(units, smtp, clock).send_due() == 1

    mail = only(units)
    [sent] = smtp.accepted
    expected_id = message_id_for(mail.event_id, mail.kind, mail.recipient, domain="stopclock.local")
    assert sent.message_id == expected_id
    assert sent.recipients == (mail.recipient,)
    assert (mail.status, mail.attempts, mail.message_id, mail.sent_at) == (
        "sent",
        1,
        expected_id,
        clock.now,
    )
    assert units.emitted_types() == [T.NOTIFICATION_SENT]
    [(topic, key, envelope)] = units.opened[0].emitted
    assert (topic, key) == (NOTIFICATIONS_EVENTS, mail.ticket_id)
    assert envelope.data == {
        "notification_id": str(mail.id),
        "ticket_id": mail.ticket_id,
        "kind": "ticket_opened",
        "recipient": mail.recipient,
        "message_id": expected_id,
        "attempts": 1,
    }
    assert envelope.causationid == mail.event_id
    assert await sender(units, smtp, clock).send_due() == 0  # sent: never claimed again


async def test_the_sent_bytes_carry_the_subject_the_log_shows() -> None:
    units, smtp = FakeUnits(), FakeSmtp()
    await recorded(units)

    await sender(units, smtp, Clock(T0 + timedelta(seconds=1))).send_due()

    message = email.message_from_bytes(smtp.accepted[0].data, policy=email.policy.default)
    assert str(message["Subject"]).strip() == only(units).subject


async def test_a_refused_mail_is_retried_after_its_backoff_then_given_up_and_announced() -> None:
    units, smtp, clock = FakeUnits(), FakeSmtp(refuse=refuse), Clock()
    await recorded(units)
    mail_sender = sender(units, smtp, clock, mail_max_attempts=3)

    statuses = []
    for _ in range(3):
        clock.advance(301)  # past any backoff
        await mail_sender.send_due()
        statuses.append(only(units).status)

    assert statuses == ["failed", "failed", "dead"]
    mail = only(units)
    assert mail.attempts == 3
    assert "no such user" in (mail.last_error or "")
    assert units.emitted_types() == [T.NOTIFICATION_FAILED]
    [failed] = [e for u in units.opened for _, _, e in u.emitted]
    assert failed.data["attempts"] == 3
    assert "no such user" in failed.data["error"]
    clock.advance(3600)
    assert await mail_sender.send_due() == 0  # a dead mail is never claimed again


async def test_a_failed_mail_is_not_retried_before_its_backoff() -> None:
    units, clock = FakeUnits(), Clock(T0 + timedelta(seconds=1))
    await recorded(units)
    await sender(units, FakeSmtp(refuse=refuse), clock).send_due()
    retry_at = only(units).next_attempt_at
    assert retry_at > clock.now

    clock.now = retry_at - timedelta(milliseconds=1)
    assert await sender(units, FakeSmtp(), clock).send_due() == 0
    clock.now = retry_at
    assert await sender(units, FakeSmtp(), clock).send_due() == 1
    assert only(units).status == "sent"


async def test_an_unreachable_server_never_kills_a_mail_and_spares_the_rest_of_the_batch() -> None:
    units, clock = FakeUnits(), Clock()
    await recorded(units, 3)
    mail_sender = sender(units, FakeSmtp(refuse=unreachable), clock, mail_max_attempts=1)

    for _ in range(5):
        clock.advance(60)
        await mail_sender.send_due()

    mails = list(units.repo.mails.values())
    assert {m.status for m in mails} <= {"pending", "failed"}
    assert units.emitted_types() == []
    assert mail_sender.breaker_seconds > 0


class SlowClock(Clock):
    """A clock that has moved on by ``step`` seconds every time it is read after the first."""

    def __init__(self, step: float) -> None:
        super().__init__(T0 + timedelta(seconds=1))
        self.step = step
        self.reads = 0

    def __call__(self) -> datetime:
        if self.reads:
            self.advance(self.step)
        self.reads += 1
        return self.now


async def test_mails_whose_lease_would_end_mid_send_are_handed_back_untried() -> None:
    units, smtp, clock = FakeUnits(), FakeSmtp(), SlowClock(step=20.0)
    await recorded(units, 2)
    # Leased for 30 s; by the first send 20 s have gone, and a send may take 2 x 5 + 1 s.
    mail_sender = sender(units, smtp, clock, mail_lease_seconds=30.0, smtp_timeout_seconds=5.0)

    assert await mail_sender.send_due() == 2

    assert smtp.accepted == []
    assert {m.status for m in units.repo.mails.values()} == {"pending"}
    assert all(m.attempts == 0 for m in units.repo.mails.values())
    # Due again at once (not at the lease's end), for a fresh claim with room to send.
    due = await claim_due(new_uow(units.repo), clock.now, timedelta(seconds=30), 10)
    assert len(due) == 2


async def test_a_send_recorded_after_its_lease_was_lost_changes_nothing() -> None:
    units = FakeUnits()
    await recorded(units)
    uow = new_uow(units.repo)
    [mail] = await claim_due(uow, T0, timedelta(seconds=30), 10)
    # Another sender re-claimed the mail after our lease ended.
    await claim_due(uow, T0 + timedelta(seconds=31), timedelta(seconds=30), 10)

    outcomes = await record_outcomes(
        uow,
        [Attempt(mail, "<m@x>", accepted_at=T0 + timedelta(seconds=40))],
        [],
        now=T0 + timedelta(seconds=40),
        jitters=[],
        max_attempts=3,
    )

    assert (outcomes.sent, outcomes.lost) == ([], 1)
    assert only(units).status == "pending"
    assert uow.emitted == []


async def test_the_sender_takes_the_consumers_text_and_writes_it_only_when_absent() -> None:
    units, written = FakeUnits(), WrittenMails()
    await recorded(units, written=written)
    mail = only(units)
    kept = written._mails[mail.dedupe_key][1]
    marked = replace(kept, subject="[as the consumer wrote it]")
    written._mails[mail.dedupe_key] = (0.0, marked)

    assert written_mail(mail, written) is marked
    assert written_mail(mail, written) == render(planned_of(mail))  # taken once, then written


async def test_outcomes_of_an_outage_mail_are_keyed_by_its_service() -> None:
    uow = new_uow()
    data = f.outage_event(subscribers=[f.person_ref()], service="Email")
    envelope = new_envelope(T.OUTAGE_DECLARED, source="t", subject="t", time=T0, data=data)
    payload = f.payload_of(T.OUTAGE_DECLARED, data)
    await record_mails(uow, payload, envelope, desk=DESK, now=T0, wake_sender=lambda: None)
    commit(uow)
    [mail] = await claim_due(uow, T0, timedelta(seconds=30), 10)

    await record_outcomes(
        uow, [Attempt(mail, "<m@x>", accepted_at=T0)], [], now=T0, jitters=[], max_attempts=3
    )

    [(_, key, envelope)] = uow.emitted
    assert key == "Email"
    assert envelope.data["ticket_id"] is None


@pytest.mark.parametrize("n", [1, 4])
async def test_claims_take_the_oldest_due_mails_first_up_to_the_batch(n: int) -> None:
    units = FakeUnits()
    await recorded(units, 5)
    uow = new_uow(units.repo)

    claimed = await claim_due(uow, T0, timedelta(seconds=30), n)

    assert len(claimed) == n
    assert all(m.next_attempt_at == T0 + timedelta(seconds=30) for m in claimed)
    assert isinstance(Accepted(claimed[0].id, T0, "<m>", T0), Accepted)
