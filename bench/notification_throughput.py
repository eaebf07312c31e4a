"""Notification service alone: how fast a backlog of ``ticket.created`` events becomes mails,
and the CPU each mail costs, with one and with several replicas.

For each replica count, private notification processes are started (a fresh database, a
consumer group of their own positioned at the end of the topics, a private SMTP catcher).
After a warm-up burst, ``COUNT`` synthetic ``ticket.created`` events (each for its own
recipient, keyed by ticket id like the ticket service's) are produced to ``tickets.events``
as fast as the broker takes them; the clock runs until the last of the ``COUNT``
confirmation mails is in the Maildir (counted by Message-ID, so a doubled mail is seen).
CPU: user + system time of the replicas (and of the catcher, reported apart) from
``/proc/<pid>/stat``, once all is recorded. Then events are produced at a steady pace and
each mail's latency (produce call -> file in the Maildir) is measured.

The topic is the stack's: a notification instance of the stack, if running, consumes the
same events in its own group and mails them to the stack's catcher, competing for CPU
(``machine_busy_pct`` shows how busy the machine was). Stop it for clean throughput figures;
cpu_ms_per_mail counts only the private replicas either way.

Goal (issue 5): with three replicas, at least 1.6x the mails/s of one; no mail lost or
doubled. cpu_ms_per_mail is the load-independent figure to drive down.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stopclock_shared.events.topics import TICKETS_EVENTS
from stopclock_shared.testing.databases import throwaway_database
from stopclock_shared.testing.stack import Stack

from .notification_procs import (
    Burst,
    Child,
    MessageIds,
    children,
    group_lag,
    machine_cpu,
    position_group_at_end,
    produce,
    start_catcher,
    start_replicas,
    stop_all,
    wait_idle,
    wait_spread,
)
from .report import summary_ms, write

COUNT = int(os.environ.get("BENCH_NOTIFICATION_THROUGHPUT_COUNT", "2000"))
# The stack's consumers paused while the private replicas run, and how long they may take
# to catch up afterwards.
PAUSED = ("sla", "notification", "escalation", "survey")
CATCH_UP_SECONDS = 300.0
REPLICAS = [
    int(x) for x in os.environ.get("BENCH_NOTIFICATION_THROUGHPUT_REPLICAS", "1,3").split(",")
]
TIMEOUT = float(os.environ.get("BENCH_NOTIFICATION_THROUGHPUT_TIMEOUT", "300"))
# Then events at this pace for PACED_SECONDS: latency from produce to mail stored.
PACED_RATE = float(os.environ.get("BENCH_NOTIFICATION_THROUGHPUT_PACED_RATE", "100"))
PACED_SECONDS = float(os.environ.get("BENCH_NOTIFICATION_THROUGHPUT_PACED_SECONDS", "10"))
PARTITIONS = 12


@dataclass
class Delivery:
    seconds: float  # first produce -> last mail stored
    mails: int
    doubled: int
    machine_busy: float  # share of all cores busy meanwhile (anybody's work)


async def deliver(catcher_maildir: Path, bootstrap: str, burst: Burst) -> Delivery:
    """Produce ``burst`` and wait for its mails."""
    ids = MessageIds(catcher_maildir)
    busy0, total0 = machine_cpu()
    start = time.time()
    await produce(bootstrap, burst.records)
    deadline = time.monotonic() + TIMEOUT
    while ids.poll() < len(burst.records) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    busy1, total1 = machine_cpu()
    seconds = max(ids.last_arrival - start, 1e-9)
    await asyncio.sleep(1.0)  # a doubled mail would arrive right behind the first one
    delivered = ids.poll()
    busy = (busy1 - busy0) / max(total1 - total0, 1e-9)
    return Delivery(seconds, delivered, ids.doubled(), busy)


async def paced(catcher_maildir: Path, bootstrap: str) -> dict[str, float]:
    """Events at PACED_RATE: p50/p99/max from the produce call to the mail stored."""
    burst = Burst.make(int(PACED_RATE * PACED_SECONDS))
    ids = MessageIds(catcher_maildir)
    started = await produce(bootstrap, burst.records, PACED_RATE)
    deadline = time.monotonic() + TIMEOUT
    while ids.poll() < len(burst.records) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    latencies = [
        max(0.0, ids.arrived[m] - t)
        for m, t in zip(burst.message_ids, started, strict=True)
        if m in ids.arrived
    ]
    stats = summary_ms(latencies)
    return {
        "paced_per_s": PACED_RATE,
        "paced_missing": len(burst.records) - len(latencies),
        "paced_p50_ms": stats["p50_ms"],
        "paced_p99_ms": stats["p99_ms"],
        "paced_max_ms": stats["max_ms"],
    }


async def level(stack: Stack, replicas: int, directory: Path) -> dict[str, Any]:
    async with throwaway_database(stack, "bench_notification") as (database, _):
        return await _level(stack, replicas, directory, database)


async def _level(stack: Stack, replicas: int, directory: Path, database: str) -> dict[str, Any]:
    suffix = f"-bench-{uuid.uuid4().hex[:8]}"
    group = f"stopclock-notification{suffix}"
    started: list[Child] = []
    try:
        catcher = await start_catcher(stack, directory)
        started.append(catcher.child)
        await position_group_at_end(stack.kafka, group)
        env = {
            "STOPCLOCK_KAFKA_BOOTSTRAP": stack.kafka,
            "STOPCLOCK_DATABASE_URL": database,
            "STOPCLOCK_SMTP_HOST": "127.0.0.1",
            "STOPCLOCK_SMTP_PORT": str(catcher.port),
            "STOPCLOCK_GROUP_SUFFIX": suffix,
            "STOPCLOCK_JWT_SECRET": stack.jwt_secret,
            "STOPCLOCK_LOG_LEVEL": "WARNING",
        }
        group_of = await start_replicas(stack, replicas, directory, env)
        replica_children = children(group_of)
        started += replica_children
        await wait_spread(group_of, PARTITIONS)
        # Warm-up: compiled and prepared statements, SMTP connections, every partition.
        warm = await deliver(catcher.maildir, stack.kafka, Burst.make(100 * replicas))
        await wait_idle(
            catcher.maildir,
            quiet_seconds=1.0,
            database_url=database,
            bootstrap=stack.kafka,
            group_id=group,
        )
        burst = Burst.make(COUNT)
        cpu0 = [c.cpu() for c in replica_children]
        catcher_cpu0 = catcher.child.cpu()
        run = await deliver(catcher.maildir, stack.kafka, burst)
        # Outcomes and notification.sent events are recorded just after the last mail.
        await wait_idle(catcher.maildir, quiet_seconds=1.0, database_url=database)
        cpu = sum(c.cpu() for c in replica_children) - sum(cpu0)
        catcher_cpu = catcher.child.cpu() - catcher_cpu0
        if any(not c.alive() for c in replica_children):
            raise RuntimeError("a replica died during the burst")
        latency = await paced(catcher.maildir, stack.kafka) if PACED_RATE > 0 else {}
    finally:
        stop_all(started)
    return {
        "replicas": replicas,
        "events": COUNT,
        "mails": run.mails,
        "missing": COUNT - run.mails,
        "doubled": run.doubled,
        "seconds": round(run.seconds, 2),
        "mails_per_s": round(run.mails / run.seconds, 1),
        "cpu_ms_per_mail": round(cpu / max(run.mails, 1) * 1000, 2),
        "catcher_cpu_ms_per_mail": round(catcher_cpu / max(run.mails, 1) * 1000, 2),
        "machine_busy_pct": round(run.machine_busy * 100),
        "warm_up_mails": warm.mails,
        **latency,
    }


@contextlib.contextmanager
def consumers_paused(stack: Stack) -> Iterator[None]:
    """The stack's own consumers (sla, notification, escalation, survey) stopped meanwhile.

    The burst goes to the shared ``tickets.events`` topic: left running, they would work
    through every event too and take the cores from the replicas measured. SIGSTOP keeps
    them alive (their group session expires and they rejoin on SIGCONT); what they missed
    they apply afterwards, as after any pause.
    """
    pids = []
    for name in PAUSED:
        pid_file = stack.repo_root / ".local" / "run" / f"{name}.pid"
        if pid_file.exists():
            pids.append(int(pid_file.read_text().split()[0]))
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


async def caught_up(stack: Stack) -> None:
    """Wait until the resumed consumers have applied the bursts they missed, so the next
    benchmark meets a settled stack (a reply to a ticket the notification service has not
    seen yet is refused, as it should be, but that is not what inbound_reply measures)."""
    start, lags = time.monotonic(), [-1]
    while time.monotonic() - start < CATCH_UP_SECONDS:
        lags = [
            await group_lag(stack.kafka, f"stopclock-{name}", [TICKETS_EVENTS]) for name in PAUSED
        ]
        if not any(lags):
            print(f"stack consumers caught up in {time.monotonic() - start:.0f} s", flush=True)
            return
        await asyncio.sleep(2)
    print(f"stack consumers still behind after {CATCH_UP_SECONDS:.0f} s: {lags}", flush=True)


async def main() -> None:
    stack = Stack.from_env()
    rows = []
    directory = Path(tempfile.mkdtemp(prefix="bench-notification-throughput-"))
    try:
        with consumers_paused(stack):
            for replicas in REPLICAS:
                rows.append(await level(stack, replicas, directory / f"r{replicas}"))
        await caught_up(stack)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    base = rows[0]["mails_per_s"] if rows else 0
    for row in rows:
        row["vs_first"] = round(row["mails_per_s"] / base, 2) if base else 0
    write(
        "notification_throughput",
        f"Notification service alone: {COUNT} ticket.created events -> mails",
        rows,
        "Private replicas (fresh database, own consumer group and SMTP catcher); the "
        "stack's own consumers paused meanwhile. seconds: "
        "first produce -> last mail stored. cpu_ms_per_mail: user+system CPU of the "
        "notification processes per mail (consume, record, render, send, record outcome, "
        "relay of notification.sent). machine_busy_pct: share of all cores busy during the "
        "burst, whoever used them (at ~100 the machine, not the service, is the limit). "
        f"paced_*: then {PACED_RATE:.0f} events/s for {PACED_SECONDS:.0f} s, latency from "
        "the produce call to the mail stored (the notification's share of the 300 ms). "
        "Goal (issue 5): 3 replicas >= 1.6x one replica.",
    )
