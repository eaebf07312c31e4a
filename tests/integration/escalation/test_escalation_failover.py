"""Reminder timers survive the loss of the replica that owns them.

Two escalation replicas of our own (free ports, a private consumer group, a throwaway
database, relay off so nothing they decide reaches the shared stack) share the
``tickets.events`` partitions. The one owning the waiting ticket's partition sends the
first reminder and is SIGKILLed; the other takes the partition over, rebuilds the timers
from the database and takes each remaining step exactly once.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from stopclock_shared.events.topics import SLA_EVENTS, SURVEYS_EVENTS, TICKETS_EVENTS
from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.kafka_probe import KafkaProbe
from stopclock_shared.testing.processes import free_port
from stopclock_shared.testing.stack import Stack, unique

pytestmark = pytest.mark.slow
PARTITIONS = 12
REMINDERS = [4, 16]  # the second one falls after the take-over (session timeout 10 s)
GRACE = 2


@dataclass
class Replica:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None


@pytest.fixture
async def database(stack: Stack) -> AsyncIterator[str]:
    """A throwaway database for the two replicas; yields its SQLAlchemy URL."""
    name = unique("escalation_failover").replace("-", "_")
    admin = await asyncpg.connect(stack.pg_admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base = stack.pg_admin_url.rsplit("/", 1)[0]
        yield f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def start_group_at_end(bootstrap: str, group_id: str) -> None:
    """Commit the end of every consumed topic for a new group: the replicas then read only
    what happens from now on, instead of replaying the stack's whole history."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        topics = (TICKETS_EVENTS, SLA_EVENTS, SURVEYS_EVENTS)
        tps = [TopicPartition(topic, p) for topic in topics for p in range(PARTITIONS)]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        await consumer.commit({tp: await consumer.position(tp) for tp in tps})
    finally:
        await consumer.stop()


@pytest.fixture
async def group_suffix(stack: Stack) -> str:
    suffix = unique("-failover")
    await start_group_at_end(stack.kafka, f"stopclock-escalation{suffix}")
    return suffix


@pytest.fixture
def replicas(
    stack: Stack, database: str, group_suffix: str, tmp_path: Path
) -> Iterator[list[Replica]]:
    started: list[Replica] = []
    try:
        for name in ("a", "b"):
            port = free_port()
            env = {
                **os.environ,
                "STOPCLOCK_KAFKA_BOOTSTRAP": stack.kafka,
                "STOPCLOCK_DATABASE_URL": database,
                "STOPCLOCK_SERVICE_PORT": str(port),
                "STOPCLOCK_GROUP_SUFFIX": group_suffix,
                "STOPCLOCK_RELAY_ENABLED": "false",
                "STOPCLOCK_JWT_SECRET": stack.jwt_secret,
                "STOPCLOCK_LOG_JSON": "false",
            }
            log = tmp_path / f"replica-{name}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "stopclock_escalation"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=stack.repo_root,
                )
            started.append(Replica(name, f"http://127.0.0.1:{port}", process, log))
        yield started
    finally:
        for replica in started:
            if replica.alive():
                replica.process.terminate()
        for replica in started:
            try:
                replica.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait()


async def until(check: Any, timeout: float, what: str, replicas: list[Replica]) -> Any:
    """Poll ``check()`` until it returns something truthy; fail with the replicas' logs."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            found = await check()
        except httpx.HTTPError:
            found = None
        if found:
            return found
        await asyncio.sleep(0.25)
    logs = "\n".join(f"--- {r.name}\n{r.log.read_text()[-3000:]}" for r in replicas)
    pytest.fail(f"timed out waiting for {what}\n{logs}")


async def owned(client: httpx.AsyncClient, replica: Replica, headers: dict[str, str]) -> set[int]:
    response = await client.get(replica.url + "/api/v1/escalation/timers", headers=headers)
    response.raise_for_status()
    return set(response.json()["partitions"])


async def test_the_surviving_replica_fires_the_pending_reminders_of_a_killed_one_once(
    stack: Stack,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    replicas: list[Replica],
) -> None:
    async with httpx.AsyncClient(timeout=5) as client:

        async def both_ready() -> bool:
            codes = [(await client.get(r.url + "/readyz")).status_code for r in replicas]
            return codes == [200, 200]

        await until(both_ready, 60, "both replicas to be ready", replicas)
        assignment: list[set[int]] = []

        async def settled() -> bool:
            now = [await owned(client, r, admin) for r in replicas]
            stable = now == assignment and all(now)
            assignment[:] = now
            return stable and set().union(*now) == set(range(PARTITIONS))

        await until(settled, 60, "the partitions to be shared by both replicas", replicas)

        first = replicas[0].url
        service = unique("failover")
        policy = {
            "match": {"service": service},
            "order": 0,
            "reminders": REMINDERS,
            "final_grace_seconds": GRACE,
        }
        put = await client.put(
            f"{first}/api/v1/escalation/policies/{service}", json=policy, headers=admin
        )
        assert put.status_code == 201, put.text

        # Warm-up: a first waiting ticket proves the replicas consume tickets.events.
        warm = await put_person(ticket_api, admin)
        warm_ticket = await open_ticket(ticket_api, admin, warm["id"])
        await move(ticket_api, admin, warm_ticket["id"], "in_progress")
        await move(ticket_api, admin, warm_ticket["id"], "waiting_on_user", reason="user_response")

        async def caught_up() -> bool:
            url = f"{first}/api/v1/people/{warm['id']}/responsiveness"
            return bool((await client.get(url, headers=admin)).json()["open"] == 1)

        await until(caught_up, 60, "the replicas to consume tickets.events", replicas)

        person = await put_person(ticket_api, admin)
        ticket = await open_ticket(ticket_api, admin, person["id"], service=service)
        await move(ticket_api, admin, ticket["id"], "in_progress")
        async with KafkaProbe(stack.kafka, TICKETS_EVENTS) as probe:
            await move(ticket_api, admin, ticket["id"], "waiting_on_user", reason="user_response")
            [record] = await probe.wait_for(lambda m: m.key == ticket["id"].encode())
        partition = record.partition
        owner, survivor = (
            (replicas[0], replicas[1]) if partition in assignment[0] else (replicas[1], replicas[0])
        )

        async def steps() -> list[tuple[str, int]]:
            response = await client.get(
                f"{survivor.url}/api/v1/escalations",
                params={"ticket_id": ticket["id"]},
                headers=admin,
            )
            return [(i["kind"], i["level"]) for i in response.json()["items"]]

        async def first_reminder_sent() -> bool:
            return await steps() == [("reminder", 1)]

        await until(first_reminder_sent, 20, "the owner's first reminder", replicas)
        owner.process.send_signal(signal.SIGKILL)
        owner.process.wait(timeout=10)

        async def taken_over() -> bool:
            return partition in await owned(client, survivor, admin)

        await until(taken_over, 40, "the survivor to take the partition over", replicas)

        async def ladder_done() -> bool:
            return len(await steps()) >= 3

        await until(ladder_done, 40, "the rest of the ladder", replicas)
        await asyncio.sleep(2)  # anything fired twice would show by now
        assert await steps() == [("reminder", 1), ("reminder", 2), ("auto_resolve", 3)]
        assert survivor.alive()
        log = survivor.log.read_text()
        loaded = re.findall(r"escalation timers: \d+ loaded for partitions \[([\d, ]*)\]", log)
        assert any(str(partition) in found.split(", ") for found in loaded)  # took it over
