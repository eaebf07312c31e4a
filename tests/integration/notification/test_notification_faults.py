"""Faults against a private notification process: an SMTP outage during a burst, and the
process SIGKILLed mid-burst. Each test runs its own mail catcher and its own
``python -m stopclock_notification`` (own port, own throwaway database, own consumer group
positioned at the end of the topics), so the stack's instance is not disturbed. The stack's
instance mails the same synthetic recipients to the stack's catcher too: only our own
catcher's Maildir is counted."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from stopclock_notification.consumers import TOPICS
from stopclock_shared.events.codec import encode
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.topics import TICKETS_EVENTS
from stopclock_shared.localstack import procs
from stopclock_shared.testing.maildir import MailWatcher
from stopclock_shared.testing.stack import Stack, unique

pytestmark = pytest.mark.slow
BURST = 200
OUTAGE_SECONDS = 20.0
EventFactory = Callable[..., Envelope]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


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


@dataclass
class Rig:
    """Our catcher, our notification process, and where they live."""

    catcher: Process
    service: Process
    smtp_port: int
    url: str
    maildir: Path

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                proc = self.service.proc
                assert proc is not None
                assert proc.poll() is None, self.service.log.read_text()[-3000:]
                try:
                    if (await client.get(self.url + "/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.3)
        pytest.fail(f"notification did not get ready: {self.service.log.read_text()[-3000:]}")

    def smtp_up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.smtp_port), timeout=0.5):
                return True
        except OSError:
            return False

    async def start_catcher(self) -> None:
        self.catcher.start()
        for _ in range(100):
            if self.smtp_up():
                return
            await asyncio.sleep(0.1)
        pytest.fail(f"catcher did not start: {self.catcher.log.read_text()[-2000:]}")

    async def log(self, stack: Stack) -> list[dict[str, Any]]:
        """Every row of our instance's mail log."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        headers = stack.auth("fault-test", "service")
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            while True:
                params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
                page = await client.get("/api/v1/notifications", params=params, headers=headers)
                assert page.status_code == 200, page.text
                items.extend(page.json()["items"])
                cursor = page.json()["next_cursor"]
                if cursor is None:
                    return items


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


@pytest.fixture(scope="module")
async def rig(
    stack: Stack,
    new_database: Callable[[], AbstractAsyncContextManager[str]],
    make_ticket_created: EventFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Rig]:
    """Our catcher and our notification process, warmed up: one mail went end to end."""
    tmp_path = tmp_path_factory.mktemp("notification-faults")
    smtp_port, http_port = free_port(), free_port()
    suffix = "-" + unique("fault")
    await position_group_at_end(stack.kafka, f"stopclock-notification{suffix}")
    maildir = tmp_path / "mail"
    catcher = Process(
        [
            sys.executable,
            "-m",
            "stopclock_shared.localstack.mailcatcher",
            "--host",
            "127.0.0.1",
            "--port",
            str(smtp_port),
            "--maildir",
            str(maildir),
        ],
        env=dict(os.environ),
        log=tmp_path / "catcher.log",
        cwd=stack.repo_root,
    )
    async with new_database() as database_url:
        env = {
            **os.environ,
            "STOPCLOCK_KAFKA_BOOTSTRAP": stack.kafka,
            "STOPCLOCK_DATABASE_URL": database_url,
            "STOPCLOCK_SERVICE_PORT": str(http_port),
            "STOPCLOCK_SMTP_HOST": "127.0.0.1",
            "STOPCLOCK_SMTP_PORT": str(smtp_port),
            "STOPCLOCK_GROUP_SUFFIX": suffix,
            "STOPCLOCK_JWT_SECRET": stack.jwt_secret,
            "STOPCLOCK_LOG_JSON": "false",
            # Short lease so that the mails in flight at the SIGKILL come back within the test.
            "STOPCLOCK_MAIL_LEASE_SECONDS": "8",
            "STOPCLOCK_SMTP_TIMEOUT_SECONDS": "3",
        }
        service = Process(
            [sys.executable, "-m", "stopclock_notification"],
            env=env,
            log=tmp_path / "notification.log",
            cwd=stack.repo_root,
        )
        setup = Rig(catcher, service, smtp_port, f"http://127.0.0.1:{http_port}", maildir)
        await setup.start_catcher()
        service.start()
        try:
            await setup.wait_ready()
            await warm_up(setup, stack, make_ticket_created)
            yield setup
        finally:
            service.stop()
            catcher.stop()


async def produce(
    bootstrap: str, envelopes: list[Envelope], per_second: float | None = None
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        pending = []
        for envelope in envelopes:
            key = (envelope.subject or envelope.id).encode()
            pending.append(await producer.send(TICKETS_EVENTS, encode(envelope), key=key))
            if per_second:
                await asyncio.sleep(1 / per_second)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


def burst(make: EventFactory, tag: str, n: int = BURST) -> tuple[list[Envelope], list[str]]:
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


async def warm_up(rig: Rig, stack: Stack, make: EventFactory) -> None:
    """One mail end to end: our consumer has its partitions and SMTP works."""
    watcher = MailWatcher(rig.maildir)
    address = f"{unique('warmup')}@example.test"
    await produce(stack.kafka, [make(email=address)])
    assert await watcher.wait_to(address, timeout=40), rig.service.log.read_text()[-3000:]


async def test_smtp_down_for_20_s_during_a_burst_every_mail_arrives_once(
    rig: Rig, stack: Stack, make_ticket_created: EventFactory
) -> None:
    watcher = MailWatcher(rig.maildir)
    events, recipients = burst(make_ticket_created, unique("outage"))

    await produce(stack.kafka, events[:50])
    while len(by_recipient(watcher, recipients)) < 10:
        await asyncio.sleep(0.01)
    rig.catcher.stop()
    down_at = time.monotonic()
    await produce(stack.kafka, events[50:])
    await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
    during = len(by_recipient(watcher, recipients))
    await rig.start_catcher()
    back_at = time.monotonic()
    found = await wait_all_delivered(watcher, recipients, timeout=30)
    recovered = time.monotonic() - back_at

    await asyncio.sleep(1.5)  # a late duplicate would show up now
    found = by_recipient(watcher, recipients)
    log = {row["recipient"]: row for row in await rig.log(stack)}
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
    if not rig.smtp_up():  # the outage test failed half-way
        await rig.start_catcher()
    watcher = MailWatcher(rig.maildir)
    events, recipients = burst(make_ticket_created, unique("crash"))

    producing = asyncio.create_task(produce(stack.kafka, events, per_second=60))
    while len(by_recipient(watcher, recipients)) < 40:
        await asyncio.sleep(0.02)
    rig.service.kill()
    killed_after = len(by_recipient(watcher, recipients))
    rig.service.start()
    await rig.wait_ready()
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
    log = {row["recipient"]: row for row in await rig.log(stack)}
    assert all(log[r]["status"] == "sent" for r in recipients)
