"""sla processes of a test's own: a throwaway database, a private consumer group that starts
at the end of `tickets.events`, free ports. They read the stack's ticket events and write to
its `sla.events`, so the stack's other services react to what they emit; their policies live
in the throwaway database only, so `data.policy` tells their events apart."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from stopclock_shared.events.topics import TICKETS_EVENTS
from stopclock_shared.testing.processes import free_port
from stopclock_shared.testing.stack import Stack, unique

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

    async def ready(self, client: httpx.AsyncClient) -> bool:
        assert self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:]
        try:
            return (await client.get(self.url + "/readyz")).status_code == 200
        except httpx.HTTPError:
            return False


def tails(*replicas: Replica) -> str:
    return "\n".join(
        f"--- {r.name}:\n" + r.log.read_text(errors="replace")[-4000:] for r in replicas
    )


@asynccontextmanager
async def throwaway_database(stack: Stack) -> AsyncIterator[str]:
    """A database at the sla schema's head; its SQLAlchemy URL. Dropped afterwards."""
    name = unique("sla_private").replace("-", "_")
    admin = await asyncpg.connect(stack.pg_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = stack.pg_admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    migrate = [sys.executable, "-m", "stopclock_shared.migrate", "sla", url]
    try:
        await asyncio.to_thread(subprocess.run, migrate, check=True, capture_output=True)
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


@contextmanager
def replicas(
    stack: Stack, database: str, group_suffix: str, logs: Path, names: tuple[str, ...]
) -> Iterator[list[Replica]]:
    """Started sla processes (one per name) of one private group; stopped afterwards."""
    started: list[Replica] = []
    try:
        for name in names:
            port = free_port()
            env = {
                **os.environ,
                "STOPCLOCK_SERVICE_PORT": str(port),
                "STOPCLOCK_DATABASE_URL": database,
                "STOPCLOCK_GROUP_SUFFIX": group_suffix,
                "STOPCLOCK_KAFKA_BOOTSTRAP": stack.kafka,
                "STOPCLOCK_JWT_SECRET": stack.jwt_secret,
                "STOPCLOCK_LOG_JSON": "false",
                "STOPCLOCK_DEFAULT_POLICIES": "false",
            }
            log = logs / f"sla-{name}.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "stopclock_sla"], env=env, stdout=out, stderr=out
                )
            started.append(Replica(name, f"http://127.0.0.1:{port}", proc, log))
        yield started
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
