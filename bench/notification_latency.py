"""Confirmation mails: from ticket creation (the API call) to the mail in the catcher's Maildir.

For each rate, tickets are opened through ``POST /api/v1/tickets`` at a fixed pace (open
loop: a slow answer never delays the next request) for a bounded time. The Maildir's
``new/`` folder is watched; each confirmation mail is matched to its ticket by the number in
its subject, and its arrival time is the file's modification time (written by the catcher
when SMTP accepted the mail). Measured: p50/p99/max of POST start -> mail stored, and
mails/s sustained (mails stored per second from the first POST to the last mail).
Goal (issue 5): p99 <= 300 ms at 100 tickets/s on this machine.

Each level starts only once the stack is idle (no lag of the notification consumer group,
no mail row due in its database, Maildir quiet for a few seconds): a backlog left by the
previous level or benchmark would otherwise be measured as latency. ``idle_wait_s`` says
how long that took (BENCH_NOTIFICATION_IDLE_TIMEOUT, 300 s, if it never got idle: the level
is then measured anyway).

``BENCH_NOTIFICATION_REPLICAS=3`` additionally starts two more notification processes in the
stack's consumer group (same database, free ports) and repeats the highest rate, to compare
throughput with one and three replicas.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from stopclock_shared.settings import local_database_url
from stopclock_shared.testing.factories import put_person
from stopclock_shared.testing.stack import Stack, unique

from .load import LoadClient, incident
from .notification_procs import (
    Replica,
    children,
    start_replicas,
    stop_all,
    wait_idle,
    wait_spread,
)
from .report import percentile, summary_ms, write

RATES = [int(x) for x in os.environ.get("BENCH_NOTIFICATION_RATES", "10,50,100,200").split(",")]
PARTITIONS = 12
# A level starts once the stack is idle: no consumer lag, no mail row due, and the Maildir
# unchanged for this long.
IDLE_QUIET_SECONDS = float(os.environ.get("BENCH_NOTIFICATION_IDLE_SECONDS", "3"))
IDLE_TIMEOUT_SECONDS = float(os.environ.get("BENCH_NOTIFICATION_IDLE_TIMEOUT", "300"))
NOTIFICATION_DATABASE_URL = os.environ.get(
    "STOPCLOCK_NOTIFICATION_DATABASE_URL", local_database_url("notification")
)
NOTIFICATION_GROUP = f"stopclock-notification{os.environ.get('STOPCLOCK_GROUP_SUFFIX', '')}"
SECONDS = float(os.environ.get("BENCH_NOTIFICATION_SECONDS", "10"))
DRAIN_SECONDS = float(os.environ.get("BENCH_NOTIFICATION_DRAIN_SECONDS", "60"))
REPLICAS = int(os.environ.get("BENCH_NOTIFICATION_REPLICAS", "1"))
SUBJECT_NUMBER = re.compile(rb"^Subject: \[((?:INC|REQ)\d+)\]", re.MULTILINE)


class MaildirClock:
    """Arrival times (file mtime) of the mails stored after it was created, by ticket number."""

    def __init__(self, maildir: Path) -> None:
        self.new = maildir / "new"
        self.seen = {e.name for e in os.scandir(self.new)} if self.new.is_dir() else set()
        self.arrived: dict[str, float] = {}

    def poll(self) -> None:
        for entry in os.scandir(self.new):
            if entry.name in self.seen:
                continue
            try:
                with open(entry.path, "rb") as f:
                    head = f.read(4096)
                mtime = entry.stat().st_mtime
            except FileNotFoundError:
                continue  # a reader moved it to cur/ meanwhile
            self.seen.add(entry.name)
            found = SUBJECT_NUMBER.search(head)
            if found:
                self.arrived.setdefault(found.group(1).decode(), mtime)

    async def watch(self) -> None:
        # Arrival is the file's mtime, so a slow poll loses no precision; a fast one would
        # scan a Maildir of tens of thousands of files on the cores the stack needs.
        while True:
            self.poll()
            await asyncio.sleep(0.25)


async def level(
    stack: Stack,
    setup: httpx.AsyncClient,
    client: LoadClient,
    clock: MaildirClock,
    rate: int,
    label: str,
) -> dict[str, Any]:
    admin = stack.auth("bench-admin", "admin", "agent")
    person = await put_person(setup, admin, unique("bench-mail"))
    body = incident(
        person["id"], "Benchmark ticket", "Created by make bench (notification latency)."
    )
    started: dict[str, float] = {}
    errors = 0

    async def post() -> None:
        nonlocal errors
        t0 = time.time()
        try:
            status, ticket = await client.post("/api/v1/tickets", body, admin)
        except (aiohttp.ClientError, TimeoutError):
            errors += 1
            return
        if status != 201:
            errors += 1
            return
        started[ticket["number"]] = t0

    posts: list[asyncio.Task[None]] = []
    first = time.time()
    begin = time.perf_counter()
    for i in range(int(rate * SECONDS)):
        # Open loop: request i leaves at begin + i / rate, whatever the earlier ones do.
        await asyncio.sleep(max(0.0, begin + i / rate - time.perf_counter()))
        posts.append(asyncio.create_task(post()))
    await asyncio.gather(*posts)
    posting = time.perf_counter() - begin
    deadline = time.perf_counter() + DRAIN_SECONDS
    while set(started) - set(clock.arrived) and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)

    delivered = [n for n in started if n in clock.arrived]
    latencies = [max(0.0, clock.arrived[n] - started[n]) for n in delivered]
    last = max((clock.arrived[n] for n in delivered), default=first)
    stats = summary_ms(latencies)
    return {
        "replicas": label,
        "target_per_s": rate,
        "tickets": len(started),
        "post_errors": errors,
        "achieved_per_s": round(len(started) / posting, 1),
        "mails": len(delivered),
        "missing": len(started) - len(delivered),
        "p50_ms": stats["p50_ms"],
        "p99_ms": stats["p99_ms"],
        "max_ms": stats["max_ms"],
        "p90_ms": round(percentile(latencies, 90) * 1000, 2),
        "mails_per_s": round(len(delivered) / max(last - first, 1e-9), 1),
    }


async def idle(stack: Stack) -> float:
    """Wait until the stack owes no mail (a previous level's or benchmark's backlog would be
    measured as this level's latency); the seconds waited."""
    try:
        waited = await wait_idle(
            stack.maildir,
            quiet_seconds=IDLE_QUIET_SECONDS,
            timeout=IDLE_TIMEOUT_SECONDS,
            database_url=NOTIFICATION_DATABASE_URL,
            bootstrap=stack.kafka,
            group_id=NOTIFICATION_GROUP,
        )
    except RuntimeError as exc:
        # Something keeps mailing (another benchmark's timers?): measure anyway, and say so.
        print(f"{exc}; measuring anyway (the figures include that load)", flush=True)
        return IDLE_TIMEOUT_SECONDS
    print(f"stack idle after {waited:.1f} s", flush=True)
    return round(waited, 1)


async def main() -> None:
    stack = Stack.from_env()
    clock = MaildirClock(stack.maildir)
    watcher = asyncio.create_task(clock.watch())
    rows = []
    log_dir = Path(tempfile.gettempdir())
    try:
        async with (
            httpx.AsyncClient(base_url=stack.url("ticket"), timeout=30) as setup,
            LoadClient(stack.url("ticket"), connections=200) as client,
        ):
            for rate in RATES:
                waited = await idle(stack)
                rows.append(
                    await level(stack, setup, client, clock, rate, "1") | {"idle_wait_s": waited}
                )
            if REPLICAS > 1:
                # Extra processes in the stack's group and database, on free ports.
                extra = await start_replicas(stack, REPLICAS - 1, log_dir)
                try:
                    own = Replica(None, stack.url("notification"))
                    await wait_spread([own, *extra], PARTITIONS)
                    waited = await idle(stack)
                    row = await level(stack, setup, client, clock, max(RATES), str(REPLICAS))
                    rows.append(row | {"idle_wait_s": waited})
                finally:
                    stop_all(children(extra))
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
    write(
        "notification_latency",
        f"Ticket POST -> confirmation mail in the Maildir ({SECONDS:.0f} s per rate)",
        rows,
        "Goal: p99 <= 300 ms at 100 tickets/s. Latency: POST start -> mail file written by "
        "the SMTP catcher. mails_per_s: mails stored per second from the first POST to the "
        "last mail of the level.",
    )
