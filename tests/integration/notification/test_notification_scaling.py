"""Scaling proof (issue 7): three notification processes in one consumer group share the 12
partitions of tickets.events; one is SIGKILLed mid-burst, the two others take its
partitions over, and every recipient of the burst still gets their mail.

The three processes are private (own ports, one throwaway database, one consumer group of
our own positioned at the end of the topics, our own mail catcher), so the stack's instance
is not disturbed; it mails the same synthetic recipients to the stack's catcher, which is not
counted. Who owns what is read where an SRE would read it: each process's
``stopclock_consumer_assigned_partitions`` gauge, plus the group as Kafka describes it."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
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
from prometheus_client.parser import text_string_to_metric_families

from stopclock_shared.events.topics import TICKETS_EVENTS
from stopclock_shared.testing.maildir import MailWatcher
from stopclock_shared.testing.stack import Stack, unique

pytestmark = pytest.mark.slow
REPLICAS = 3
PARTITIONS = 12
BURST = 150
PER_SECOND = 40.0
KILLED = 1  # the index of the replica we SIGKILL
ASSIGNED = "stopclock_consumer_assigned_partitions"


class Group:
    """Our replicas of the notification service: one group, one database, one catcher."""

    def __init__(self, suffix: str, catcher: Catcher, replicas: list[Notification]) -> None:
        self.suffix = suffix
        self.catcher = catcher
        self.replicas = replicas

    def alive(self) -> dict[str, Notification]:
        return {
            f"replica-{i}": r
            for i, r in enumerate(self.replicas)
            if r.process.proc is not None and r.process.proc.poll() is None
        }

    async def assignment(self) -> dict[str, int]:
        """Partitions of tickets.events each live replica says it owns (its gauge)."""
        owned: dict[str, int] = {}
        async with httpx.AsyncClient(timeout=3) as client:
            for name, replica in self.alive().items():
                text = (await client.get(replica.url + "/metrics")).text
                owned[name] = assigned_partitions(text, TICKETS_EVENTS)
        return owned

    async def wait_assignment(
        self, done: Callable[[dict[str, int]], bool], timeout: float
    ) -> dict[str, int]:
        deadline = time.monotonic() + timeout
        while True:
            owned = await self.assignment()
            if done(owned) or time.monotonic() > deadline:
                return owned
            await asyncio.sleep(0.25)

    def logs(self) -> str:
        return "\n".join(
            f"--- replica-{i}\n{r.process.tail(1500)}" for i, r in enumerate(self.replicas)
        )


def assigned_partitions(metrics_text: str, topic: str) -> int:
    """The value of the assigned-partitions gauge for ``topic`` (0 before any assignment)."""
    for family in text_string_to_metric_families(metrics_text):
        if family.name == ASSIGNED:
            for sample in family.samples:
                if sample.labels.get("topic") == topic:
                    return int(sample.value)
    return 0


async def members(bootstrap: str, group: str) -> dict[str, list[int]]:
    """The partitions of tickets.events of each member of ``group``, as Kafka describes it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
        [description] = response.groups
        owned: dict[str, list[int]] = {}
        for member in description[5]:
            member_id, assignment = member[0], member[4]
            topics = dict(ConsumerProtocolMemberAssignment.decode(assignment).assignment)
            owned[member_id] = sorted(topics.get(TICKETS_EVENTS, []))
        return owned
    finally:
        await admin.close()


def spread(owned: Mapping[str, int], replicas: int) -> bool:
    """All partitions owned, by exactly ``replicas`` processes, each doing a fair part."""
    return (
        len(owned) == replicas
        and sum(owned.values()) == PARTITIONS
        and all(n >= 2 for n in owned.values())
    )


@pytest.fixture
async def group(
    stack: Stack,
    new_database: Callable[[], AbstractAsyncContextManager[str]],
    make_ticket_created: EventFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Group]:
    """Three warmed-up replicas with the partitions spread over them."""
    tmp_path = tmp_path_factory.mktemp("notification-scaling")
    suffix = "-" + unique("scale")
    await position_group_at_end(stack.kafka, group_id(suffix))
    catcher = Catcher.make(stack, tmp_path)
    async with new_database() as database_url:
        replicas = [
            Notification.make(
                stack,
                database_url=database_url,
                smtp_port=catcher.port,
                group_suffix=suffix,
                log=tmp_path / f"notification-{i}.log",
            )
            for i in range(REPLICAS)
        ]
        setup = Group(suffix, catcher, replicas)
        await catcher.start()
        try:
            # The first one migrates the fresh database alone; then the others join.
            replicas[0].process.start()
            await replicas[0].wait_ready()
            for replica in replicas[1:]:
                replica.process.start()
            await asyncio.gather(*(r.wait_ready() for r in replicas[1:]))
            owned = await setup.wait_assignment(lambda o: spread(o, REPLICAS), timeout=40)
            assert spread(owned, REPLICAS), f"partitions not spread: {owned}\n{setup.logs()}"
            await warm_up(stack, catcher.maildir, make_ticket_created, replicas[0].process)
            yield setup
        finally:
            for replica in replicas:
                replica.process.stop()
            catcher.stop()


async def test_three_replicas_share_the_partitions_and_survive_losing_one(
    group: Group, stack: Stack, make_ticket_created: EventFactory
) -> None:
    watcher = MailWatcher(group.catcher.maildir)
    events, recipients = burst(make_ticket_created, unique("scale"), BURST)
    before = await group.assignment()
    members_before = await members(stack.kafka, group_id(group.suffix))

    producing = asyncio.create_task(produce(stack.kafka, events, per_second=PER_SECOND))
    deadline = time.monotonic() + 20
    while len(by_recipient(watcher, recipients)) < BURST // 4:
        assert time.monotonic() < deadline, f"the burst is not being mailed\n{group.logs()}"
        await asyncio.sleep(0.02)
    group.replicas[KILLED].process.kill()
    killed_at = time.monotonic()
    mailed_before_kill = set(by_recipient(watcher, recipients))

    after = await group.wait_assignment(lambda o: spread(o, REPLICAS - 1), timeout=40)
    took_over = time.monotonic() - killed_at
    assert spread(after, REPLICAS - 1), f"survivors did not take over: {after}\n{group.logs()}"
    members_after = await members(stack.kafka, group_id(group.suffix))
    records = await producing
    found = await wait_all_delivered(watcher, recipients, timeout=45)
    await asyncio.sleep(1.5)  # a late duplicate would show up now
    found = by_recipient(watcher, recipients)

    # The dead replica's partitions: those of the one member that left the group.
    gone = [m for m in members_before if m not in members_after]
    dead_partitions = {p for m in gone for p in members_before[m]}
    landed = {r: md.partition for r, md in zip(recipients, records, strict=True)}
    taken_over = [
        r for r in recipients if landed[r] in dead_partitions and r not in mailed_before_kill
    ]
    duplicates = sum(len(ids) - 1 for ids in found.values())
    per_recipient = dict(Counter(len(ids) for ids in found.values()))
    print(
        f"\npartitions of {TICKETS_EVENTS} per replica before: {before}, "
        f"after SIGKILL of replica-{KILLED}: {after} (taken over in {took_over:.1f} s)"
        f"\nby member before: {sorted(members_before.values())}, "
        f"after: {sorted(members_after.values())}"
        f"\n{len(mailed_before_kill)} of {BURST} mailed before the kill; {len(taken_over)} "
        f"mails of the dead replica's partitions {sorted(dead_partitions)} sent by survivors; "
        f"{duplicates} duplicate(s) (mails per recipient: {per_recipient})"
    )
    assert len(gone) == 1, (members_before, members_after)
    assert len(dead_partitions) >= 2, members_before
    assert sorted(p for ps in members_after.values() for p in ps) == list(range(PARTITIONS))
    assert sorted(found) == sorted(recipients), f"lost: {set(recipients) - set(found)}"
    assert taken_over, "the dead replica left no work behind: the kill came too late"
    assert all(len(set(ids)) == 1 for ids in found.values()), "a duplicate with another id"
    log = {row["recipient"]: row for row in await group.replicas[0].log(stack)}
    assert all(log[r]["status"] == "sent" for r in recipients)
    assert all(log[r]["message_id"] == found[r][0] for r in recipients)
