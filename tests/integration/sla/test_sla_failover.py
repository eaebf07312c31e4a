"""Fail-over: two sla replicas share the work; one is SIGKILLed while it owns pending
timers; the other takes its partitions over and fires each breach exactly once.

The replicas are our own processes (free ports, a throwaway database, a private consumer
group that starts at the end of `tickets.events`). The stack's own sla service sees the
same tickets but not our policy (it lives in the throwaway database only), so counting
`sla.events` records whose `data.policy` is our policy's name counts exactly what our
replicas emitted.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from aiokafka import ConsumerRecord
from private_sla import (
    Replica,
    replicas,
    start_group_at_the_end,
    tails,
    throwaway_database,
    wait_until,
)
from sla_support import envelope, policy_body, put_policy

from stopclock_shared.events.topics import SLA_EVENTS, TICKETS_EVENTS
from stopclock_shared.testing.factories import open_ticket, put_person
from stopclock_shared.testing.kafka_probe import KafkaProbe
from stopclock_shared.testing.stack import Stack, unique

pytestmark = pytest.mark.slow
TARGET = 20.0  # seconds: the kill and the takeover (session timeout 10 s) happen before


@pytest.fixture
async def pair(stack: Stack, tmp_path: Path) -> AsyncIterator[tuple[Replica, Replica]]:
    suffix = "-" + unique("failover")
    await start_group_at_the_end(stack, f"stopclock-sla{suffix}")
    async with throwaway_database(stack) as database:
        with replicas(stack, database, suffix, tmp_path, ("a", "b")) as (a, b):
            yield a, b


async def test_a_killed_replicas_timers_fire_once_on_the_survivor(
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
    pair: tuple[Replica, Replica],
) -> None:
    a, b = pair
    async with httpx.AsyncClient(timeout=10) as http:

        async def both_ready() -> bool:
            return await a.ready(http) and await b.ready(http)

        async def shared_out() -> bool:
            pa, pb = a.partitions(), b.partitions()
            return bool(pa and pb and not pa & pb and len(pa | pb) == 12)

        await wait_until(both_ready, 60, "both replicas ready")
        await wait_until(shared_out, 40, "the partitions shared by the two replicas")

        service = unique("svc")
        async with httpx.AsyncClient(base_url=a.url, timeout=10) as replica_api:
            policy = (await put_policy(replica_api, admin, policy_body(service, TARGET)))["name"]
        person = await put_person(ticket_api, admin)

        def ours(kind: str) -> Callable[[ConsumerRecord[bytes, bytes]], bool]:
            def match(record: ConsumerRecord[bytes, bytes]) -> bool:
                env = envelope(record)
                return bool(
                    env.get("type") == f"stopclock.sla.{kind}.v1"
                    and env.get("data", {}).get("policy") == policy
                )

            return match

        async with (
            KafkaProbe(stack.kafka, SLA_EVENTS) as sla_events,
            KafkaProbe(stack.kafka, TICKETS_EVENTS) as ticket_events,
        ):
            tickets = [
                await open_ticket(ticket_api, admin, person["id"], service=service)
                for _ in range(8)
            ]
            ids = {t["id"] for t in tickets}
            await sla_events.wait_for(ours("started"), count=len(ids), timeout=20)
            created = await ticket_events.wait_for(
                lambda r: (r.key or b"").decode() in ids, count=len(ids), timeout=5
            )
            partition_of = {(r.key or b"").decode(): r.partition for r in created}

            counts = {r.name: await r.timers(http) for r in (a, b)}
            victim, survivor = (a, b) if counts["a"] >= counts["b"] else (b, a)
            owned = victim.partitions()
            victims_tickets = {t for t, p in partition_of.items() if p in owned}
            assert victims_tickets, f"the victim owns none of {partition_of} ({owned})"
            assert counts[victim.name] >= len(victims_tickets), (counts, tails(a, b))

            killed_at = time.time()
            victim.proc.send_signal(signal.SIGKILL)
            victim.proc.wait()

            breaches = await sla_events.wait_for(
                ours("breached"),
                count=len(ids),
                timeout=TARGET + 30,
            )
            await asyncio.sleep(3)  # room for a duplicate to show up
            breaches = await sla_events.wait_for(ours("breached"), count=99, timeout=0.5)

    per_ticket: dict[str, list[str]] = {}
    for record in breaches:
        env = envelope(record)
        per_ticket.setdefault(env["subject"], []).append(env["id"])
    assert set(per_ticket) == ids, tails(a, b)
    assert all(len(events) == 1 for events in per_ticket.values()), per_ticket
    taken_over = [r for r in breaches if envelope(r)["subject"] in victims_tickets]
    assert all(r.timestamp / 1000 > killed_at for r in taken_over)
    assert survivor.proc.poll() is None
