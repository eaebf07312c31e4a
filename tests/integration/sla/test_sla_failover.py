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
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from sla_support import envelope, policy_body, put_policy

from stopclock_shared.events.topics import SLA_EVENTS, TICKETS_EVENTS
from stopclock_shared.testing.factories import open_ticket, put_person
from stopclock_shared.testing.kafka_probe import KafkaProbe
from stopclock_shared.testing.processes import free_port
from stopclock_shared.testing.stack import Stack, unique

pytestmark = pytest.mark.slow
TARGET = 20.0  # seconds: the kill and the takeover (session timeout 10 s) happen before
ASSIGNED = re.compile(r"sla timers: \d+ loaded for partitions \[([\d, ]*)\]")


@dataclass
class Replica:
    name: str
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def partitions(self) -> set[int]:
        """The partitions of its latest assignment (from its log)."""
        found = ASSIGNED.findall(self.log.read_text(errors="replace"))
        return {int(p) for p in found[-1].split(",") if p.strip()} if found else set()

    async def timers(self, client: httpx.AsyncClient) -> int:
        text = (await client.get(self.url + "/metrics")).text
        match = re.search(r"^stopclock_sla_timers_scheduled (\S+)$", text, re.M)
        return int(float(match.group(1))) if match else -1


def tails(*replicas: Replica) -> str:
    return "\n".join(
        f"--- {r.name}:\n" + r.log.read_text(errors="replace")[-4000:] for r in replicas
    )


@pytest.fixture
async def database(stack: Stack) -> AsyncIterator[str]:
    """A throwaway database at the sla schema's head; its SQLAlchemy URL."""
    name = unique("sla_failover").replace("-", "_")
    admin = await asyncpg.connect(stack.pg_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = stack.pg_admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    migrate = [sys.executable, "-m", "stopclock_shared.migrate", "sla", url]
    await asyncio.to_thread(subprocess.run, migrate, check=True, capture_output=True)
    try:
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def partitions_of(stack: Stack) -> set[int]:
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka)
    await producer.start()
    try:
        found: set[int] = await producer.partitions_for(TICKETS_EVENTS)
        return found
    finally:
        await producer.stop()


async def start_group_at_the_end(stack: Stack, group_id: str) -> None:
    """Commit the group's offsets at the end of tickets.events: no replay of history."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=stack.kafka, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tps = [TopicPartition(TICKETS_EVENTS, p) for p in sorted(await partitions_of(stack))]
        assert tps, "tickets.events has no partitions"
        consumer.assign(tps)
        await consumer.commit(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


@pytest.fixture
async def replicas(
    stack: Stack, database: str, tmp_path: Path
) -> AsyncIterator[tuple[str, list[Replica]]]:
    suffix = "-" + unique("failover")
    group = f"stopclock-sla{suffix}"
    await start_group_at_the_end(stack, group)
    started: list[Replica] = []
    for name in ("a", "b"):
        port = free_port()
        env = {
            **os.environ,
            "STOPCLOCK_SERVICE_PORT": str(port),
            "STOPCLOCK_DATABASE_URL": database,
            "STOPCLOCK_GROUP_SUFFIX": suffix,
            "STOPCLOCK_KAFKA_BOOTSTRAP": stack.kafka,
            "STOPCLOCK_JWT_SECRET": stack.jwt_secret,
            "STOPCLOCK_LOG_JSON": "false",
            "STOPCLOCK_DEFAULT_POLICIES": "false",
        }
        log = tmp_path / f"sla-{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "stopclock_sla"], env=env, stdout=out, stderr=out
            )
        started.append(Replica(name, f"http://127.0.0.1:{port}", proc, log))
    try:
        yield group, started
    finally:
        for replica in started:
            if replica.proc.poll() is None:
                replica.proc.terminate()
        for replica in started:
            try:
                replica.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                replica.proc.kill()
                replica.proc.wait()


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_killed_replicas_timers_fire_once_on_the_survivor(
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
    replicas: tuple[str, list[Replica]],
) -> None:
    _, (a, b) = replicas
    async with httpx.AsyncClient(timeout=10) as http:

        async def both_ready() -> bool:
            for r in (a, b):
                assert r.proc.poll() is None, r.log.read_text(errors="replace")[-3000:]
                try:
                    if (await http.get(r.url + "/readyz")).status_code != 200:
                        return False
                except httpx.HTTPError:
                    return False
            return True

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
