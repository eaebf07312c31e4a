"""Helpers of the notification benchmarks: private notification processes (replicas) and
SMTP catchers, their CPU time, synthetic ``ticket.created`` events, Maildir counting, and
waiting until the stack is idle.

A replica is ``python -m stopclock_notification`` on a free port with the environment of
the caller plus overrides: with the stack's environment it joins the stack's consumer group
and database (extra replicas of the running service); with a database and group suffix of
its own it is an isolated instance.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from devstack import procs
from stopclock_notification.consumers import TOPICS
from stopclock_notification.domain import MailKind, message_id_for
from stopclock_shared.events.codec import encode
from stopclock_shared.events.topics import TICKETS_EVENTS
from stopclock_shared.testing import kafka_probe
from stopclock_shared.testing.events import ticket_created
from stopclock_shared.testing.processes import CLOCK_TICKS, cpu_seconds, free_port, wait_readyz
from stopclock_shared.testing.stack import Stack

ASSIGNED = "stopclock_consumer_assigned_partitions"
MESSAGE_ID = re.compile(rb"^Message-ID: *(<[^>\r\n]+>)", re.MULTILINE | re.IGNORECASE)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores (``/proc/stat``)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


@dataclass
class Child:
    """A process we started (and only those are ever stopped here)."""

    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text()[-chars:]
        except FileNotFoundError:
            return "(no log)"

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def spawn(argv: Sequence[str], env: Mapping[str, str], log: Path, cwd: Path) -> Child:
    return Child(procs.spawn(list(argv), log_path=log, env=env, cwd=cwd), log)


@dataclass
class Replica:
    """One notification process and its base URL (``child`` None: not ours, e.g. the
    stack's own instance)."""

    child: Child | None
    url: str

    async def wait_ready(self, timeout: float = 90.0) -> None:
        if not await wait_readyz(self.url, timeout, self._check_alive):
            tail = self.child.tail() if self.child else ""
            raise RuntimeError(f"notification replica {self.url} not ready: {tail}")

    def _check_alive(self) -> None:
        if self.child is not None and not self.child.alive():
            raise RuntimeError(f"notification replica died: {self.child.tail()}")

    async def assigned(self, topic: str = TICKETS_EVENTS) -> int:
        """Partitions of ``topic`` the replica says it owns (its gauge)."""
        async with httpx.AsyncClient(timeout=3) as client:
            text = (await client.get(self.url + "/metrics")).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == ASSIGNED and sample.labels.get("topic") == topic:
                    return int(sample.value)
        return 0


def start_replica(stack: Stack, log_dir: Path, env: Mapping[str, str] | None = None) -> Replica:
    """A notification process on a free port: the caller's environment plus ``env``."""
    port = free_port()
    merged = {
        **os.environ,
        "STOPCLOCK_SERVICE_PORT": str(port),
        "STOPCLOCK_LOG_JSON": "false",
        # The stack's own instance holds the inbound SMTP port.
        "STOPCLOCK_INBOUND_SMTP_PORT": "0",
        **(env or {}),
    }
    child = spawn(
        [sys.executable, "-m", "stopclock_notification"],
        merged,
        log_dir / f"bench-notification-{port}.log",
        stack.repo_root,
    )
    return Replica(child, f"http://127.0.0.1:{port}")


async def start_replicas(
    stack: Stack, n: int, log_dir: Path, env: Mapping[str, str] | None = None
) -> list[Replica]:
    """``n`` replicas, ready (joined their group) when this returns."""
    replicas = [start_replica(stack, log_dir, env) for _ in range(n)]
    try:
        await asyncio.gather(*(r.wait_ready() for r in replicas))
    except BaseException:
        stop_all(children(replicas))
        raise
    return replicas


def children(replicas: Sequence[Replica]) -> list[Child]:
    """The processes of ``replicas`` that we started."""
    return [r.child for r in replicas if r.child is not None]


async def wait_spread(replicas: Sequence[Replica], partitions: int, timeout: float = 60) -> None:
    """Until every replica owns some partitions and together they own all ``partitions``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        owned = await asyncio.gather(*(r.assigned() for r in replicas))
        if sum(owned) == partitions and all(owned):
            return
        await asyncio.sleep(0.5)
    raise RuntimeError("the replicas did not share the partitions in time")


def stop_all(children: Sequence[Child]) -> None:
    for child in children:
        if child.alive():
            child.proc.terminate()
    for child in children:
        child.stop()


@dataclass
class Catcher:
    """A private SMTP catcher writing into its own Maildir."""

    child: Child
    port: int
    maildir: Path


async def start_catcher(stack: Stack, directory: Path) -> Catcher:
    port = free_port()
    maildir = directory / "mail"
    argv = [sys.executable, "-m", "devstack.mailcatcher"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--maildir", str(maildir)]
    child = spawn(argv, dict(os.environ), directory / "catcher.log", stack.repo_root)
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return Catcher(child, port, maildir)
        except OSError:
            await asyncio.sleep(0.1)
    child.stop()
    raise RuntimeError(f"catcher did not start: {child.tail()}")


class MessageIds:
    """Message-IDs of the mails stored in a Maildir's ``new/`` after it was created."""

    def __init__(self, maildir: Path) -> None:
        self.new = maildir / "new"
        self.seen: set[str] = set(os.listdir(self.new)) if self.new.is_dir() else set()
        self.count: dict[str, int] = {}
        self.arrived: dict[str, float] = {}  # Message-ID -> first arrival (file mtime)
        self.last_arrival = 0.0

    def poll(self) -> int:
        """Read the new files; returns how many distinct Message-IDs were seen so far."""
        try:
            names = os.listdir(self.new)
        except FileNotFoundError:
            return len(self.count)
        for name in names:
            if name in self.seen:
                continue
            path = self.new / name
            try:
                with path.open("rb") as f:
                    head = f.read(4096)
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                continue
            self.seen.add(name)
            found = MESSAGE_ID.search(head)
            if found:
                key = found.group(1).decode()
                self.count[key] = self.count.get(key, 0) + 1
                self.arrived[key] = min(mtime, self.arrived.get(key, mtime))
                self.last_arrival = max(self.last_arrival, mtime)
        return len(self.count)

    def doubled(self) -> int:
        return sum(n - 1 for n in self.count.values() if n > 1)


async def position_group_at_end(bootstrap: str, group_id: str) -> None:
    """Commit a group's offsets at the end of every topic the service consumes."""
    await kafka_probe.position_group_at_end(bootstrap, group_id, TOPICS)


async def group_lag(bootstrap: str, group_id: str, topics: Sequence[str] = TOPICS) -> int:
    """Messages of ``topics`` the group has not committed yet (0: it has caught up)."""
    return await kafka_probe.group_lag(bootstrap, group_id, topics)


@dataclass
class Burst:
    """Pre-encoded ticket.created records (key, value), one fresh recipient each."""

    tag: str
    records: list[tuple[bytes, bytes]] = field(default_factory=list)
    # The Message-ID of each record's confirmation mail (the service's deterministic one).
    message_ids: list[str] = field(default_factory=list)

    @classmethod
    def make(cls, n: int) -> Burst:
        tag = uuid.uuid4().hex[:8]
        burst = cls(tag)
        for i in range(n):
            email = f"b{tag}-{i}@example.test"
            envelope = ticket_created(
                email=email, number=f"INC8{i:06d}", source="bench/notification"
            )
            burst.records.append(((envelope.subject or envelope.id).encode(), encode(envelope)))
            burst.message_ids.append(message_id_for(envelope.id, MailKind.TICKET_OPENED, email))
        return burst


async def produce(
    bootstrap: str, records: Sequence[tuple[bytes, bytes]], per_second: float | None = None
) -> list[float]:
    """Publish onto tickets.events, keyed like the ticket service (by ticket id): as fast as
    the broker takes them, or at ``per_second`` (open loop). When each send started."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        pending, started = [], []
        begin = time.perf_counter()
        for i, (key, value) in enumerate(records):
            if per_second:
                await asyncio.sleep(max(0.0, begin + i / per_second - time.perf_counter()))
            started.append(time.time())
            pending.append(await producer.send(TICKETS_EVENTS, value, key=key))
        await asyncio.gather(*pending)
        return started
    finally:
        await producer.stop()


async def wait_idle(
    maildir: Path,
    *,
    quiet_seconds: float = 3.0,
    timeout: float = 300.0,
    database_url: str | None = None,
    bootstrap: str | None = None,
    group_id: str | None = None,
) -> float:
    """Until the stack has nothing left to mail: no consumer lag (when ``group_id`` is given),
    no unsent rows (when ``database_url`` is given; due retries of old failures count as
    unsent only when due within the quiet period), and no new file in the Maildir for
    ``quiet_seconds``. Returns the seconds waited; raises if it never gets idle."""
    start = time.monotonic()
    deadline = start + timeout
    new = maildir / "new"

    def files() -> int:
        try:
            return len(os.listdir(new))
        except FileNotFoundError:
            return 0

    last_count = files()
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        count = files()
        if count != last_count:
            last_count, quiet_since = count, time.monotonic()
            continue
        if time.monotonic() - quiet_since < quiet_seconds:
            continue
        if bootstrap and group_id and await group_lag(bootstrap, group_id):
            quiet_since = time.monotonic()
            continue
        if database_url:
            try:
                due = await due_rows(database_url, quiet_seconds)
            except (OSError, asyncpg.PostgresError) as exc:
                print(f"not checking unsent mail rows ({exc})", flush=True)
                database_url, due = None, 0
            if due:
                quiet_since = time.monotonic()
                continue
        return time.monotonic() - start
    raise RuntimeError(f"the stack was not idle within {timeout:.0f} s")


async def due_rows(database_url: str, within_seconds: float) -> int:
    """Unsent rows due within ``within_seconds`` (a far retry of a dead address waits)."""
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn)
    try:
        found = await conn.fetchval(
            "SELECT count(*) FROM notifications WHERE status IN ('pending', 'failed') "
            "AND next_attempt_at <= now() + make_interval(secs => $1)",
            within_seconds,
        )
        return int(found or 0)
    finally:
        await conn.close()
