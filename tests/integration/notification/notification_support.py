"""Helpers of the notification tests that run private notification processes: our own
mail catcher, ``python -m stopclock_notification`` on a free port against a throwaway
database in a consumer group of our own, bursts of synthetic events, and counting the mails
of a burst by Message-ID. Used by the fault and the scaling tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import RecordMetadata

from devstack import procs
from stopclock_notification.consumers import TOPICS
from stopclock_shared.events.codec import encode
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.topics import TICKETS_EVENTS
from stopclock_shared.testing.maildir import MailWatcher
from stopclock_shared.testing.processes import free_port
from stopclock_shared.testing.stack import Stack, unique

EventFactory = Callable[..., Envelope]


@dataclass
class Process:
    """A child process we start, stop and kill ourselves (never anybody else's)."""

    argv: list[str]
    env: dict[str, str]
    log: Path
    cwd: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = procs.spawn(self.argv, log_path=self.log, env=self.env, cwd=self.cwd)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)
        self.proc = None

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text()[-chars:]
        except FileNotFoundError:
            return "(no log)"


@dataclass
class Catcher:
    """Our own SMTP catcher writing into our own Maildir (the stack's one is not counted)."""

    process: Process
    port: int
    maildir: Path

    @classmethod
    def make(cls, stack: Stack, directory: Path) -> Catcher:
        port = free_port()
        maildir = directory / "mail"
        argv = [sys.executable, "-m", "devstack.mailcatcher"]
        argv += ["--host", "127.0.0.1", "--port", str(port), "--maildir", str(maildir)]
        process = Process(argv, dict(os.environ), directory / "catcher.log", stack.repo_root)
        return cls(process, port, maildir)

    def up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    async def start(self) -> None:
        self.process.start()
        for _ in range(100):
            if self.up():
                return
            await asyncio.sleep(0.1)
        pytest.fail(f"catcher did not start: {self.process.tail(2000)}")

    def stop(self) -> None:
        self.process.stop()


@dataclass
class Notification:
    """One private ``python -m stopclock_notification`` process and its base URL."""

    process: Process
    url: str

    @classmethod
    def make(
        cls,
        stack: Stack,
        *,
        database_url: str,
        smtp_port: int,
        group_suffix: str,
        log: Path,
    ) -> Notification:
        """A process on a free port; those given the same suffix form one consumer group."""
        http_port = free_port()
        env = {
            **os.environ,
            "STOPCLOCK_KAFKA_BOOTSTRAP": stack.kafka,
            "STOPCLOCK_DATABASE_URL": database_url,
            "STOPCLOCK_SERVICE_PORT": str(http_port),
            "STOPCLOCK_SMTP_HOST": "127.0.0.1",
            "STOPCLOCK_SMTP_PORT": str(smtp_port),
            "STOPCLOCK_GROUP_SUFFIX": group_suffix,
            # The stack's own instance holds the inbound SMTP port; a test that needs a
            # private receiver sets its own port.
            "STOPCLOCK_INBOUND_SMTP_PORT": "0",
            "STOPCLOCK_JWT_SECRET": stack.jwt_secret,
            "STOPCLOCK_LOG_JSON": "false",
            # Short lease so that the mails in flight at a SIGKILL come back within the test.
            "STOPCLOCK_MAIL_LEASE_SECONDS": "8",
            "STOPCLOCK_SMTP_TIMEOUT_SECONDS": "3",
        }
        argv = [sys.executable, "-m", "stopclock_notification"]
        return cls(Process(argv, env, log, stack.repo_root), f"http://127.0.0.1:{http_port}")

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                proc = self.process.proc
                assert proc is not None
                assert proc.poll() is None, self.process.tail()
                try:
                    if (await client.get(self.url + "/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.3)
        pytest.fail(f"notification did not get ready: {self.process.tail()}")

    async def log(self, stack: Stack) -> list[dict[str, Any]]:
        """Every row of the mail log of this process's database."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        headers = stack.auth("notification-test", "service")
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            while True:
                params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
                page = await client.get("/api/v1/notifications", params=params, headers=headers)
                assert page.status_code == 200, page.text
                items.extend(page.json()["items"])
                cursor = page.json()["next_cursor"]
                if cursor is None:
                    return items


def group_id(group_suffix: str) -> str:
    """The consumer group of notification processes started with ``group_suffix``."""
    return f"stopclock-notification{group_suffix}"


async def position_group_at_end(bootstrap: str, group_id: str) -> None:
    """Commit the group's offsets at the end of every consumed topic: start from now."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()
        tps = [
            TopicPartition(topic, p)
            for topic in TOPICS
            for p in sorted(cluster.partitions_for_topic(topic) or ())
        ]
        assert tps, "the contract topics have no partitions"
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        await consumer.commit({tp: await consumer.position(tp) for tp in tps})
    finally:
        await consumer.stop()


async def produce(
    bootstrap: str, envelopes: list[Envelope], per_second: float | None = None
) -> list[RecordMetadata]:
    """Publish onto tickets.events keyed like the ticket service; where each record landed."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        pending = []
        for envelope in envelopes:
            key = (envelope.subject or envelope.id).encode()
            pending.append(await producer.send(TICKETS_EVENTS, encode(envelope), key=key))
            if per_second:
                await asyncio.sleep(1 / per_second)
        return list(await asyncio.gather(*pending))
    finally:
        await producer.stop()


def burst(make: EventFactory, tag: str, n: int) -> tuple[list[Envelope], list[str]]:
    """``n`` ticket.created events, each for its own fresh recipient."""
    recipients = [f"{tag}-{i}@example.test" for i in range(n)]
    numbers = [f"INC9{i:06d}" for i in range(n)]
    return [
        make(email=r, number=num) for r, num in zip(recipients, numbers, strict=True)
    ], recipients


def by_recipient(watcher: MailWatcher, recipients: list[str]) -> dict[str, list[str]]:
    """Message-IDs received per recipient of the burst."""
    wanted = {r.lower() for r in recipients}
    found: dict[str, list[str]] = defaultdict(list)
    for mail in watcher.poll():
        to = str(mail["To"]).lower()
        if to in wanted:
            found[to].append(str(mail["Message-ID"]))
    return found


async def wait_all_delivered(
    watcher: MailWatcher, recipients: list[str], timeout: float
) -> dict[str, list[str]]:
    deadline = time.monotonic() + timeout
    while True:
        found = by_recipient(watcher, recipients)
        if len(found) == len(recipients) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)


async def warm_up(stack: Stack, maildir: Path, make: EventFactory, diagnose: Process) -> None:
    """One mail end to end: the consumers have their partitions and SMTP works."""
    watcher = MailWatcher(maildir)
    address = f"{unique('warmup')}@example.test"
    await produce(stack.kafka, [make(email=address)])
    assert await watcher.wait_to(address, timeout=40), diagnose.tail()
