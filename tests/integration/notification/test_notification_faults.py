"""Faults against a private notification process: an SMTP outage during a burst, and the
process SIGKILLed mid-burst. Each test runs its own mail catcher and its own
``python -m stopclock_notification`` (own port, own throwaway database, own consumer group
positioned at the end of the topics), so the stack's instance is not disturbed. The stack's
instance mails the same synthetic recipients to the stack's catcher too: only our own
catcher's Maildir is counted."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import pytest
from notification_support import (
    Catcher,
    EventFactory,
    Notification,
    burst,
    by_recipient,
    group_id,
    position_group_at_end,
    produce,
    wait_all_delivered,
    warm_up,
)

from stopclock_shared.testing.maildir import MailWatcher
from stopclock_shared.testing.stack import Stack, unique

pytestmark = pytest.mark.slow
BURST = 200
OUTAGE_SECONDS = 20.0


@dataclass
class Rig:
    """Our catcher and our notification process."""

    catcher: Catcher
    service: Notification


@pytest.fixture(scope="module")
async def rig(
    stack: Stack,
    new_database: Callable[[], AbstractAsyncContextManager[str]],
    make_ticket_created: EventFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Rig]:
    """Our catcher and our notification process, warmed up: one mail went end to end."""
    tmp_path = tmp_path_factory.mktemp("notification-faults")
    suffix = "-" + unique("fault")
    await position_group_at_end(stack.kafka, group_id(suffix))
    catcher = Catcher.make(stack, tmp_path)
    async with new_database() as database_url:
        service = Notification.make(
            stack,
            database_url=database_url,
            smtp_port=catcher.port,
            group_suffix=suffix,
            log=tmp_path / "notification.log",
        )
        await catcher.start()
        service.process.start()
        try:
            await service.wait_ready()
            await warm_up(stack, catcher.maildir, make_ticket_created, service.process)
            yield Rig(catcher, service)
        finally:
            service.process.stop()
            catcher.stop()


async def test_smtp_down_for_20_s_during_a_burst_every_mail_arrives_once(
    rig: Rig, stack: Stack, make_ticket_created: EventFactory
) -> None:
    watcher = MailWatcher(rig.catcher.maildir)
    events, recipients = burst(make_ticket_created, unique("outage"), BURST)

    await produce(stack.kafka, events[:50])
    while len(by_recipient(watcher, recipients)) < 10:
        await asyncio.sleep(0.01)
    rig.catcher.stop()
    down_at = time.monotonic()
    await produce(stack.kafka, events[50:])
    await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
    during = len(by_recipient(watcher, recipients))
    await rig.catcher.start()
    back_at = time.monotonic()
    found = await wait_all_delivered(watcher, recipients, timeout=30)
    recovered = time.monotonic() - back_at

    await asyncio.sleep(1.5)  # a late duplicate would show up now
    found = by_recipient(watcher, recipients)
    log = {row["recipient"]: row for row in await rig.service.log(stack)}
    attempts = Counter(log[r]["attempts"] for r in recipients)
    print(
        f"\nSMTP outage: {during} of {BURST} delivered before it, the rest within "
        f"{recovered:.1f} s after it ended (attempts per mail: {dict(sorted(attempts.items()))})"
    )
    assert sorted(found) == sorted(recipients), f"missing: {set(recipients) - set(found)}"
    assert all(len(ids) == 1 for ids in found.values()), "a mail arrived twice"
    assert len({i for ids in found.values() for i in ids}) == BURST
    assert all(log[r]["status"] == "sent" for r in recipients)
    assert all(log[r]["message_id"] == found[r][0] for r in recipients)
    assert any(log[r]["attempts"] > 1 for r in recipients), "the outage was never felt"


async def test_sigkill_mid_burst_loses_no_mail_and_duplicates_keep_their_message_id(
    rig: Rig, stack: Stack, make_ticket_created: EventFactory
) -> None:
    if not rig.catcher.up():  # the outage test failed half-way
        await rig.catcher.start()
    watcher = MailWatcher(rig.catcher.maildir)
    events, recipients = burst(make_ticket_created, unique("crash"), BURST)

    producing = asyncio.create_task(produce(stack.kafka, events, per_second=60))
    while len(by_recipient(watcher, recipients)) < 40:
        await asyncio.sleep(0.02)
    rig.service.process.kill()
    killed_after = len(by_recipient(watcher, recipients))
    rig.service.process.start()
    await rig.service.wait_ready()
    await producing
    found = await wait_all_delivered(watcher, recipients, timeout=45)

    await asyncio.sleep(1.5)
    found = by_recipient(watcher, recipients)
    counts = Counter(len(ids) for ids in found.values())
    duplicates = sum(len(ids) - 1 for ids in found.values())
    print(
        f"\nSIGKILL after {killed_after} of {BURST} mails: {duplicates} duplicate(s) "
        f"(mails per recipient: {dict(counts)})"
    )
    assert sorted(found) == sorted(recipients), f"lost: {set(recipients) - set(found)}"
    assert all(len(set(ids)) == 1 for ids in found.values()), "a duplicate with another id"
    log = {row["recipient"]: row for row in await rig.service.log(stack)}
    assert all(log[r]["status"] == "sent" for r in recipients)
