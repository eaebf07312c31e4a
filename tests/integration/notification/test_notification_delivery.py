"""The sender against real PostgreSQL (a throwaway database) and a scripted SMTP transport:
leases, retries, giving up, and what a crash between the send and its record costs."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosmtplib
import orjson
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from stopclock_notification.domain import Desk
from stopclock_notification.domain.composing import OutgoingMail
from stopclock_notification.models import metadata, notifications
from stopclock_notification.models import outbox as outbox_table
from stopclock_notification.repository import SqlUnits, sql_unit_of_work
from stopclock_notification.sender import MailSender
from stopclock_notification.sender_wakeup import SenderWakeup
from stopclock_notification.settings import NotificationSettings
from stopclock_notification.use_cases.mails import Recorded, record_mails
from stopclock_shared.db import make_sessionmaker
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.tickets import TicketCreated
from stopclock_shared.outbox import Outbox
from stopclock_shared.testing.stack import unique

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
DESK = Desk(survey_base_url="http://survey.test", locale="en", timezone="UTC")
EventFactory = Callable[..., Envelope]


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class ScriptedSmtp:
    """A Transport whose every send runs ``behaviour`` (accept, raise, hang, take time)."""

    behaviour: Callable[[OutgoingMail], Any] | None = None
    accepted: list[str] = field(default_factory=list)
    tried: int = 0

    async def send(self, message: OutgoingMail) -> None:
        self.tried += 1
        if self.behaviour is not None:
            result = self.behaviour(message)
            if asyncio.iscoroutine(result):
                await result
        self.accepted.append(message.message_id)

    async def close(self) -> None:
        return None


@pytest.fixture
async def engine(throwaway_database: str) -> AsyncIterator[AsyncEngine]:
    eng = create_async_engine(throwaway_database, pool_size=10)
    async with eng.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield eng
    await eng.dispose()


@pytest.fixture
def maker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


def settings(**overrides: Any) -> NotificationSettings:
    fields: dict[str, Any] = {
        "mail_max_attempts": 3,
        "mail_lease_seconds": 30.0,
        "smtp_timeout_seconds": 5.0,
        "mail_batch_size": 10,
        **overrides,
    }
    return NotificationSettings(**fields)


def sender(
    maker: async_sessionmaker[AsyncSession],
    transport: ScriptedSmtp,
    clock: Clock,
    **overrides: Any,
) -> MailSender:
    return MailSender(
        units=SqlUnits(maker, Outbox(outbox_table, unique("notification"))),
        settings=settings(**overrides),
        transport=transport,
        wake=asyncio.Event(),
        clock=clock,
        jitter=lambda: 0.5,
    )


async def record_event(
    session: AsyncSession,
    envelope: Envelope,
    now: datetime = T0,
    on_new: Callable[[], None] = lambda: None,
) -> Recorded:
    """The consumer's use case for one ticket.created event, in ``session``'s transaction."""
    return await record_mails(
        sql_unit_of_work(session, Outbox(outbox_table, "notification")),
        TicketCreated.model_validate(envelope.data),
        envelope,
        desk=DESK,
        now=now,
        wake_sender=on_new,
    )


class Woken:
    """Counts the wake-ups of the senders (one per commit that recorded new mails)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


async def record(
    maker: async_sessionmaker[AsyncSession], make: EventFactory, n: int, at: datetime = T0
) -> None:
    async with maker() as session, session.begin():
        for _ in range(n):
            envelope = make(email=f"{unique('to')}@example.test", time=at)
            await record_event(session, envelope, at)


async def rows(maker: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    async with maker() as session:
        found = await session.execute(select(notifications).order_by(notifications.c.created_at))
        return [dict(r) for r in found.mappings()]


async def outbox_events(maker: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    async with maker() as session:
        payloads = (await session.execute(select(outbox_table.c.payload))).scalars().all()
    return [orjson.loads(p) for p in payloads]


async def test_a_redelivered_event_records_its_mails_once(
    maker: async_sessionmaker[AsyncSession], make_ticket_created: EventFactory
) -> None:
    envelope = make_ticket_created(email="ada@example.test", time=T0)
    woken = Woken()
    async with maker() as session, session.begin():
        await record_event(session, envelope, on_new=woken)
    inserted_first = woken.count
    async with maker() as session, session.begin():
        await record_event(session, envelope, on_new=woken)
    inserted_again = woken.count - inserted_first

    assert (inserted_first, inserted_again) == (1, 0)
    [row] = await rows(maker)
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("pending", 0, T0)


async def test_concurrent_senders_send_every_mail_exactly_once(
    maker: async_sessionmaker[AsyncSession], make_ticket_created: EventFactory
) -> None:
    await record(maker, make_ticket_created, 60)
    smtp = ScriptedSmtp(behaviour=lambda _: asyncio.sleep(0.002))  # interleave the senders
    clock = Clock(T0 + timedelta(seconds=1))
    senders = [sender(maker, smtp, clock, mail_batch_size=4) for _ in range(4)]

    async def drain(s: MailSender) -> None:
        while await s.send_due():
            pass

    await asyncio.gather(*(drain(s) for s in senders))

    assert len(smtp.accepted) == 60
    assert set(Counter(smtp.accepted).values()) == {1}
    stored = await rows(maker)
    assert {r["status"] for r in stored} == {"sent"}
    assert sorted(r["message_id"] for r in stored) == sorted(smtp.accepted)
    assert all(r["attempts"] == 1 and r["sent_at"] == clock.now for r in stored)
    sent_events = [e for e in await outbox_events(maker) if e["type"].endswith("sent.v1")]
    assert len(sent_events) == 60


async def test_a_mail_the_server_keeps_rejecting_is_given_up_and_announced(
    maker: async_sessionmaker[AsyncSession], make_ticket_created: EventFactory
) -> None:
    await record(maker, make_ticket_created, 1)

    def refuse(message: OutgoingMail) -> None:
        raise aiosmtplib.SMTPRecipientRefused(550, "no such user", message.recipients[0])

    clock = Clock()
    mail_sender = sender(maker, ScriptedSmtp(behaviour=refuse), clock, mail_max_attempts=3)
    statuses = []
    for _ in range(3):
        clock.advance(301)  # past any backoff
        await mail_sender.send_due()
        statuses.append((await rows(maker))[0]["status"])

    assert statuses == ["failed", "failed", "dead"]
    [row] = await rows(maker)
    assert row["attempts"] == 3
    assert "no such user" in row["last_error"]
    clock.advance(3600)
    assert await mail_sender.send_due() == 0  # a dead mail is never claimed again
    [failed] = [e for e in await outbox_events(maker) if e["type"].endswith("failed.v1")]
    assert failed["data"]["notification_id"] == str(row["id"])
    assert failed["data"]["attempts"] == 3
    assert "no such user" in failed["data"]["error"]


async def test_a_failed_attempt_is_retried_after_its_backoff_not_before(
    maker: async_sessionmaker[AsyncSession], make_ticket_created: EventFactory
) -> None:
    await record(maker, make_ticket_created, 1)
    outcomes = iter([aiosmtplib.SMTPDataError(451, "try later"), None])

    def flaky(_: OutgoingMail) -> None:
        error = next(outcomes)
        if error is not None:
            raise error

    clock = Clock(T0)
    smtp = ScriptedSmtp(behaviour=flaky)
    mail_sender = sender(maker, smtp, clock)
    await mail_sender.send_due()
    [failed] = await rows(maker)
    clock.now = failed["next_attempt_at"] - timedelta(milliseconds=1)
    early = await mail_sender.send_due()
    clock.now = failed["next_attempt_at"]
    due = await mail_sender.send_due()

    assert failed["next_attempt_at"] == T0 + timedelta(seconds=1)  # 2 s ceiling, jitter 0.5
    assert (early, due) == (0, 1)
    [sent] = await rows(maker)
    assert (sent["status"], sent["attempts"], sent["last_error"]) == (
        "sent",
        2,
        failed["last_error"],
    )


async def test_an_unreachable_server_costs_one_try_and_never_kills_a_mail(
    maker: async_sessionmaker[AsyncSession], make_ticket_created: EventFactory
) -> None:
    await record(maker, make_ticket_created, 5)

    def refused(_: OutgoingMail) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    clock = Clock(T0)
    smtp = ScriptedSmtp(behaviour=refused)
    mail_sender = sender(maker, smtp, clock, mail_max_attempts=2)
    await mail_sender.send_due()
    after_one = await rows(maker)
    for _ in range(20):
        clock.advance(301)
        await mail_sender.send_due()

    assert smtp.tried == 21
    assert sorted(r["attempts"] for r in after_one) == [0, 0, 0, 0, 1]
    untried = [r for r in after_one if r["attempts"] == 0]
    assert all(r["status"] == "pending" and r["next_attempt_at"] == T0 for r in untried)
    assert {r["status"] for r in await rows(maker)} <= {"pending", "failed"}
    assert sum(r["attempts"] for r in await rows(maker)) == 21


async def test_a_mail_in_flight_when_its_sender_stops_is_resent_after_the_lease_with_its_id(
    maker: async_sessionmaker[AsyncSession], make_ticket_created: EventFactory
) -> None:
    await record(maker, make_ticket_created, 3)
    wire: list[str] = []
    hang = asyncio.Event()

    async def accept_then_die(message: OutgoingMail) -> None:
        wire.append(message.message_id)  # the server has it...
        await hang.wait()  # ...and we die before hearing so

    clock = Clock(T0)
    doomed = sender(maker, ScriptedSmtp(behaviour=accept_then_die), clock, mail_lease_seconds=30)
    task = asyncio.create_task(doomed.send_due())
    while not wire:
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    healthy_smtp = ScriptedSmtp()
    healthy = sender(maker, healthy_smtp, clock)
    await healthy.send_due()  # the two untried mails were released at once
    clock.advance(29)
    within_lease = await healthy.send_due()
    clock.advance(2)
    after_lease = await healthy.send_due()

    assert len(healthy_smtp.accepted) == 3
    assert within_lease == 0
    assert after_lease == 1
    assert wire[0] in healthy_smtp.accepted  # the duplicate carries the same Message-ID
    assert {r["status"] for r in await rows(maker)} == {"sent"}


async def test_a_mail_is_not_started_when_the_lease_could_end_mid_send(
    maker: async_sessionmaker[AsyncSession], make_ticket_created: EventFactory
) -> None:
    await record(maker, make_ticket_created, 3)
    clock = Clock(T0)

    def slow(_: OutgoingMail) -> None:
        clock.advance(10)

    smtp = ScriptedSmtp(behaviour=slow)
    # lease 30 s; a send may take 2 * 5 s + 1 s: the third mail would start at +20 s.
    await sender(maker, smtp, clock, mail_lease_seconds=30, smtp_timeout_seconds=5).send_due()

    stored = await rows(maker)
    assert len(smtp.accepted) == 2
    assert sorted(r["status"] for r in stored) == ["pending", "sent", "sent"]
    [left] = [r for r in stored if r["status"] == "pending"]
    assert (left["attempts"], left["next_attempt_at"]) == (0, clock.now)


async def test_a_mail_that_cannot_be_written_is_given_up_at_once(
    maker: async_sessionmaker[AsyncSession], make_ticket_created: EventFactory
) -> None:
    await record(maker, make_ticket_created, 1)
    async with maker() as session, session.begin():
        await session.execute(update(notifications).values(context={}))  # a template bug's twin
    smtp = ScriptedSmtp()

    await sender(maker, smtp, Clock(T0)).send_due()

    [row] = await rows(maker)
    assert smtp.tried == 0
    assert (row["status"], row["attempts"]) == ("dead", 1)
    assert "UndefinedError" in row["last_error"]


async def test_the_senders_are_woken_when_new_mail_is_committed_and_never_on_rollback(
    maker: async_sessionmaker[AsyncSession], make_ticket_created: EventFactory
) -> None:
    wakeup = SenderWakeup()
    wake = wakeup.new_event()

    async with maker() as session:
        async with session.begin():
            envelope = make_ticket_created(email="ada@example.test", time=T0)
            await record_event(session, envelope, on_new=wakeup.wake_one)
            before_commit = wake.is_set()
        after_commit = wake.is_set()
    wake.clear()
    async with maker() as session:
        transaction = await session.begin()
        envelope = make_ticket_created(email="bob@example.test", time=T0)
        await record_event(session, envelope, on_new=wakeup.wake_one)
        await transaction.rollback()

    assert (before_commit, after_commit) == (False, True)
    assert not wake.is_set()
    assert [r["recipient"] for r in await rows(maker)] == ["ada@example.test"]


async def test_a_transactions_events_are_recorded_together_at_its_commit(
    maker: async_sessionmaker[AsyncSession], make_ticket_created: EventFactory
) -> None:
    wakeup = SenderWakeup()
    wake = wakeup.new_event()
    envelopes = [make_ticket_created(email=f"p{i}@example.test", time=T0) for i in range(3)]

    async with maker() as session:
        async with session.begin():
            for envelope in envelopes:
                await record_event(session, envelope, on_new=wakeup.wake_one)
            before_commit = (len(await rows(maker)), wake.is_set())
        after_commit = wake.is_set()

    assert before_commit == (0, False)
    assert after_commit
    assert sorted(r["recipient"] for r in await rows(maker)) == [
        "p0@example.test",
        "p1@example.test",
        "p2@example.test",
    ]


async def test_rows_waiting_for_a_commit_are_dropped_on_rollback_and_never_doubled(
    maker: async_sessionmaker[AsyncSession], make_ticket_created: EventFactory
) -> None:
    wakeup = SenderWakeup()
    wake = wakeup.new_event()
    envelope = make_ticket_created(email="ada@example.test", time=T0)
    async with maker() as session:
        transaction = await session.begin()
        await record_event(session, envelope, on_new=wakeup.wake_one)
        await transaction.rollback()
    assert await rows(maker) == []
    assert not wake.is_set()

    for _ in range(2):  # the event again, then redelivered
        async with maker() as session, session.begin():
            await record_event(session, envelope, on_new=wakeup.wake_one)
        woken = wake.is_set()
        wake.clear()
    assert not woken  # nothing new: the senders are left alone
    assert [r["recipient"] for r in await rows(maker)] == ["ada@example.test"]
