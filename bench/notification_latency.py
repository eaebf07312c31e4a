"""Confirmation mails: from ticket creation (the API call) to the mail in the catcher's Maildir.

For each rate, tickets are opened through ``POST /api/v1/tickets`` at a fixed pace (open
loop: a slow answer never delays the next request) for a bounded time. The Maildir's
``new/`` folder is watched; each confirmation mail is matched to its ticket by the number in
its subject, and its arrival time is the file's modification time (written by the catcher
when SMTP accepted the mail). Measured: p50/p99/max of POST start -> mail stored, and
mails/s sustained (mails stored per second from the first POST to the last mail).
Goal (issue 5): p99 <= 300 ms at 100 tickets/s on this machine.

``BENCH_NOTIFICATION_REPLICAS=3`` additionally starts two more notification processes in the
stack's consumer group (same database, free ports) and repeats the highest rate, to compare
throughput with one and three replicas.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from stopclock_shared.testing.factories import put_person
from stopclock_shared.testing.stack import Stack, unique

from .report import percentile, summary_ms, write

RATES = [int(x) for x in os.environ.get("BENCH_NOTIFICATION_RATES", "10,50,100,200").split(",")]
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
        while True:
            self.poll()
            await asyncio.sleep(0.02)


async def level(
    stack: Stack, client: httpx.AsyncClient, clock: MaildirClock, rate: int, label: str
) -> dict[str, Any]:
    admin = stack.auth("bench-admin", "admin", "agent")
    person = await put_person(client, admin, unique("bench-mail"))
    body = {
        "type": "incident",
        "title": "Benchmark ticket",
        "description": "Created by make bench (notification latency).",
        "requester_id": person["id"],
        "impact": "medium",
        "urgency": "high",
    }
    started: dict[str, float] = {}
    errors = 0

    async def post() -> None:
        nonlocal errors
        t0 = time.time()
        try:
            response = await client.post("/api/v1/tickets", json=body, headers=admin)
        except httpx.HTTPError:
            errors += 1
            return
        if response.status_code != 201:
            errors += 1
            return
        started[response.json()["number"]] = t0

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def start_replicas(stack: Stack, n: int) -> list[subprocess.Popen[bytes]]:
    """``n`` extra notification processes joining the stack instance's group and database."""
    procs = []
    for _ in range(n):
        port = free_port()
        env = {**os.environ, "STOPCLOCK_SERVICE_PORT": str(port), "STOPCLOCK_LOG_JSON": "false"}
        log_path = Path(tempfile.gettempdir()) / f"bench-notification-{port}.log"
        with log_path.open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "stopclock_notification"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=stack.repo_root,
                start_new_session=True,
            )
        procs.append(proc)
        async with httpx.AsyncClient(timeout=2) as client:
            for _ in range(200):
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.3)
    await asyncio.sleep(15)  # let the group rebalance over all members
    return procs


def stop_replicas(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


async def main() -> None:
    stack = Stack.from_env()
    clock = MaildirClock(stack.maildir)
    watcher = asyncio.create_task(clock.watch())
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    rows = []
    try:
        async with httpx.AsyncClient(
            base_url=stack.url("ticket"), timeout=30, limits=limits
        ) as client:
            for rate in RATES:
                rows.append(await level(stack, client, clock, rate, "1"))
            if REPLICAS > 1:
                extra = await start_replicas(stack, REPLICAS - 1)
                try:
                    rows.append(await level(stack, client, clock, max(RATES), str(REPLICAS)))
                finally:
                    stop_replicas(extra)
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
