"""The intake use case on a real (throwaway) database: what is recorded, which commands land
in the outbox in the same transaction, copies, the rate limit, malformed mail, and the
replicas it decides on. Time is passed in, so the rate window is tested without waiting."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from stopclock_notification.models import inbound_mails, metadata
from stopclock_notification.models import outbox as outbox_table
from stopclock_notification.repository import (
    SqlNotificationRepository,
    TicketReplica,
    sql_unit_of_work,
)
from stopclock_notification.use_cases.inbound import InboundDesk, Received, Status, Taken, take_in
from stopclock_shared.db import make_sessionmaker
from stopclock_shared.events.codec import decode
from stopclock_shared.links import link_key, reply_address
from stopclock_shared.outbox import Outbox
from stopclock_shared.testing.stack import unique

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
DESK_ADDRESS = "servicedesk@stopclock.local"
KEY = link_key("intake-test")
DESK = InboundDesk(
    address=DESK_ADDRESS,
    link_key=KEY,
    rate_per_hour=3,
    keep_raw_bytes=1024,
    message_id_domain="stopclock.local",
)
TICKET_ID = str(uuid.uuid4())
REQUESTER = "ada@example.test"


@pytest.fixture
async def maker(throwaway_database: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine: AsyncEngine = create_async_engine(throwaway_database)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    maker = make_sessionmaker(engine)
    async with maker() as session, session.begin():
        await SqlNotificationRepository(session).upsert_ticket_ref(
            snapshot(version=2, status="waiting_on_user")
        )
    yield maker
    await engine.dispose()


def snapshot(version: int, status: str) -> TicketReplica:
    return TicketReplica(
        ticket_id=TICKET_ID,
        number="INC0000042",
        requester_id="ada",
        requester_email="Ada@Example.test",
        requester_locale="fr",
        status=status,
        waiting_reason="info_requested" if status == "waiting_on_user" else None,
        version=version,
    )


def raw_mail(sender: str = REQUESTER, to: str | None = None, text: str = "Floor 3") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to or reply_address(KEY, DESK_ADDRESS, uuid.UUID(TICKET_ID), REQUESTER)
    msg["Subject"] = "Re: [INC0000042] Question"
    msg["Message-ID"] = f"<{unique('m')}@client.test>"
    msg.set_content(text)
    return msg.as_bytes()


async def take(maker: async_sessionmaker[AsyncSession], raw: bytes, now: datetime = T0) -> Taken:
    async with maker() as session, session.begin():
        uow = sql_unit_of_work(session, Outbox(outbox_table, "notification"))
        return await take_in(uow, DESK, Received(raw), now)


async def commands(
    maker: async_sessionmaker[AsyncSession],
) -> list[tuple[str, str, dict[str, Any]]]:
    async with maker() as session:
        rows = (await session.execute(select(outbox_table).order_by(outbox_table.c.id))).all()
    found = []
    for row in rows:
        envelope = decode(bytes(row.payload))
        assert isinstance(envelope.data, dict)
        found.append((row.topic, row.key, envelope.data))
    return found


async def records(maker: async_sessionmaker[AsyncSession]) -> list[Any]:
    async with maker() as session:
        stmt = select(inbound_mails).order_by(inbound_mails.c.received_at)
        return list((await session.execute(stmt)).mappings().all())


async def test_a_reply_is_recorded_with_its_comment_command_in_one_transaction(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    taken = await take(maker, raw_mail())
    assert (taken.status, taken.outcome, taken.ticket_id) == (Status.ACCEPTED, "comment", TICKET_ID)
    ((topic, key, data),) = await commands(maker)
    assert (topic, key) == ("tickets.commands", TICKET_ID)
    assert data["body"] == "Floor 3"
    assert (data["visibility"], data["author_id"], data["channel"]) == ("public", "ada", "email")
    (record,) = await records(maker)
    assert (record["sender"], record["outcome"], record["refused"]) == (REQUESTER, "comment", False)
    assert record["raw"] is not None


async def test_a_copy_of_a_mail_is_recorded_and_acted_on_once(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    raw = raw_mail()
    assert (await take(maker, raw)).status is Status.ACCEPTED
    assert (await take(maker, raw, T0 + timedelta(minutes=5))).status is Status.DUPLICATE
    assert len(await commands(maker)) == 1
    assert len(await records(maker)) == 1


async def test_a_mail_without_message_id_is_deduplicated_by_its_bytes(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    raw = b"From: ada@example.test\r\nTo: servicedesk@stopclock.local\r\nSubject: hi\r\n\r\nx\r\n"
    await take(maker, raw)
    assert (await take(maker, raw)).status is Status.DUPLICATE
    (record,) = await records(maker)
    assert record["message_id"].startswith("sha256:")


async def test_a_sender_over_the_hourly_limit_is_refused_until_the_window_moves_on(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    for minute in range(3):
        taken = await take(maker, raw_mail(), T0 + timedelta(minutes=minute))
        assert taken.status is Status.ACCEPTED
    refused_raw = raw_mail(text="one too many")
    refused = await take(maker, refused_raw, T0 + timedelta(minutes=10))
    assert (refused.status, refused.outcome) == (Status.RATE_LIMITED, "rejected")
    assert "rate limit" in refused.detail
    # The client retries later: the refusal did not use up the Message-ID.
    later = await take(maker, refused_raw, T0 + timedelta(minutes=61))
    assert later.status is Status.ACCEPTED
    assert len(await commands(maker)) == 4
    assert [r["refused"] for r in await records(maker)] == [False, False, False, True, False]


async def test_malformed_mail_is_recorded_rejected_and_never_crashes(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    taken = await take(maker, b"\x00\xff not a mail at all")
    assert (taken.status, taken.outcome) == (Status.ACCEPTED, "rejected")
    assert taken.detail.startswith("malformed mail")
    assert await commands(maker) == []


async def test_a_late_older_ticket_event_does_not_roll_the_replica_back(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    async with maker() as session, session.begin():
        await SqlNotificationRepository(session).upsert_ticket_ref(
            snapshot(version=1, status="new")
        )
        await SqlNotificationRepository(session).upsert_ticket_ref(
            snapshot(version=3, status="in_progress")
        )
        await SqlNotificationRepository(session).upsert_ticket_ref(
            snapshot(version=2, status="waiting_on_user")
        )
    async with maker() as session:
        ref = await SqlNotificationRepository(session).ticket_ref(TICKET_ID)
    assert ref is not None
    assert ref.status == "in_progress"
    assert ref.requester_email == "Ada@Example.test"


async def test_a_person_in_the_directory_opens_a_ticket_and_a_stranger_nothing(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    async with maker() as session, session.begin():
        await SqlNotificationRepository(session).upsert_person("bob", "Bob@Example.test", "Bob", T0)
    fresh = raw_mail(sender="bob@example.test", to=DESK_ADDRESS, text="New problem")
    taken = await take(maker, fresh.replace(b"[INC0000042] ", b""))
    assert (taken.status, taken.outcome) == (Status.ACCEPTED, "new_ticket")
    ((_, key, data),) = await commands(maker)
    assert key == taken.ticket_id == data["ticket_id"]
    assert (data["requester_id"], data["title"], data["description"]) == (
        "bob",
        "Question",
        "New problem",
    )
    stranger = raw_mail(sender="eve@example.test", to=DESK_ADDRESS)
    assert (await take(maker, stranger.replace(b"[INC0000042] ", b""))).outcome == "rejected"
    assert len(await commands(maker)) == 1
