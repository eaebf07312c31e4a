"""Chaos: every part of the stack SIGKILLed in turn under a steady create load; then count.

Needs a stack whose supervisor brings dead parts back (`make run`, or `make chaos`, which
watches the stack it starts). The load creates incidents at ``CHAOS_RATE``/s, each with its
own ``Idempotency-Key``, and retries a failed create (connection refused, 5xx, 503) with the
same key and body until it gets its 201, as a well-behaved client does. One part after another
(the five services, Kafka, PostgreSQL, the mail catcher) is SIGKILLed ``CHAOS_KILL_AFTER`` s
into its phase of ``CHAOS_PHASE`` s; the phase measures how long the part takes to be back
(its port open and, for a service, `/readyz` 200).

When the load has stopped and the stack has settled, it counts, per phase (by the tickets
created during it): tickets answered 201 (N), tickets that exist (exactly N, no key answered
with two ids), SLA clocks (one per ticket), confirmation mails by unique Message-ID (one per
ticket; extra copies of one Message-ID are the at-least-once duplicates), and, for the whole
run, outbox rows never published and new DLQ records (both must be 0).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import TopicPartition

from devstack import ports, procs
from devstack.config import SERVICE_PORTS, load
from stopclock_shared.events.topics import ALL_TOPICS, dlq
from stopclock_shared.testing.factories import put_person
from stopclock_shared.testing.kafka_probe import end_offsets
from stopclock_shared.testing.stack import Stack, unique

from .report import write

RATE = float(os.environ.get("CHAOS_RATE", "15"))
PHASE = float(os.environ.get("CHAOS_PHASE", "25"))
KILL_AFTER = float(os.environ.get("CHAOS_KILL_AFTER", "5"))
SETTLE = float(os.environ.get("CHAOS_SETTLE", "180"))
PARTS = os.environ.get(
    "CHAOS_PARTS", "ticket,sla,notification,escalation,survey,kafka,postgres,mailcatcher"
).split(",")
REQUESTERS = 10
CREATE_DEADLINE = 180.0  # a create still failing after this long counts as lost


@dataclass
class Phase:
    part: str
    started: float
    killed_pid: int | None = None
    killed_at: float = 0.0
    back_after: float | None = None
    keys: list[str] = field(default_factory=list)


@dataclass
class Run:
    ids: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # key -> ids
    numbers: dict[str, str] = field(default_factory=dict)  # ticket id -> number
    lost: list[str] = field(default_factory=list)  # keys never answered 201
    retries: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # what the failed tries got


async def _create(
    client: httpx.AsyncClient, run: Run, key: str, body: dict[str, Any], admin: dict[str, str]
) -> None:
    deadline = time.monotonic() + CREATE_DEADLINE
    delay = 0.25
    while time.monotonic() < deadline:
        try:
            response = await client.post(
                "/api/v1/tickets", json=body, headers={**admin, "Idempotency-Key": key}
            )
            if response.status_code == 201:
                ticket = response.json()
                run.ids[key].add(ticket["id"])
                run.numbers[ticket["id"]] = ticket["number"]
                return
            retry_after = response.headers.get("retry-after")
            run.failures[f"{response.status_code}{' +Retry-After' if retry_after else ''}"] += 1
        except httpx.HTTPError as exc:
            run.failures[type(exc).__name__] += 1
        run.retries += 1
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)
    run.lost.append(key)


def _back(part: str, config: Any, stack: Stack) -> bool:
    if part in SERVICE_PORTS:
        return ports.http_status(f"{stack.url(part)}/readyz", timeout=1.0) == 200
    port = {
        "kafka": config.kafka_port,
        "postgres": config.pg_port,
        "mailcatcher": config.smtp_port,
    }[part]
    return ports.is_open("127.0.0.1", port)


async def _kill_and_watch(phase: Phase, config: Any, stack: Stack) -> None:
    await asyncio.sleep(KILL_AFTER)
    pid = procs.read_pid(config.pid_path(phase.part))
    if pid is None or not procs.is_alive(pid):
        return
    phase.killed_pid, phase.killed_at = pid, time.monotonic()
    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(0.5)
    deadline = phase.killed_at + 120
    while time.monotonic() < deadline:
        fresh = procs.read_pid(config.pid_path(phase.part))
        if fresh not in (None, pid) and await asyncio.to_thread(_back, phase.part, config, stack):
            phase.back_after = time.monotonic() - phase.killed_at
            return
        await asyncio.sleep(0.25)


async def _dlq_ends(stack: Stack) -> dict[TopicPartition, int]:
    return await end_offsets(stack.kafka, [dlq(topic) for topic in ALL_TOPICS])


async def _unpublished(stack: Stack) -> dict[str, int]:
    counts = {}
    base = stack.pg_admin_url.rsplit("/", 1)[0]
    for service in SERVICE_PORTS:
        conn = await asyncpg.connect(f"{base}/stopclock_{service}")
        try:
            counts[service] = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            )
        finally:
            await conn.close()
    return counts


def _confirmations(maildir: Path, since: float, numbers: set[str]) -> dict[str, Counter[str]]:
    """Per ticket number, how many copies of each confirmation Message-ID arrived."""
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for sub in ("new", "cur"):
        folder = maildir / sub
        for entry in os.scandir(folder) if folder.is_dir() else ():
            if entry.stat().st_mtime < since:
                continue
            mail = email.message_from_bytes(
                Path(entry.path).read_bytes(), policy=email.policy.default
            )
            if mail.get("X-Stopclock-Kind") != "ticket_opened":
                continue
            subject = str(mail.get("Subject", ""))
            number = next((n for n in numbers if n in subject), None)
            if number is not None:
                found[number][str(mail.get("Message-ID"))] += 1
    return found


async def _settle(
    client: httpx.AsyncClient, stack: Stack, run: Run, admin: dict[str, str]
) -> dict[str, bool]:
    """Wait until every ticket has its clock (or the settle time is over); ticket -> has one."""
    has_clock: dict[str, bool] = dict.fromkeys(run.numbers, False)
    deadline = time.monotonic() + SETTLE
    async with httpx.AsyncClient(base_url=stack.url("sla"), timeout=10) as sla:
        while time.monotonic() < deadline and not all(has_clock.values()):
            for ticket_id in [t for t, ok in has_clock.items() if not ok]:
                try:
                    response = await sla.get(f"/api/v1/sla/tickets/{ticket_id}", headers=admin)
                except httpx.HTTPError:
                    break
                has_clock[ticket_id] = response.status_code == 200 and bool(
                    response.json().get("clocks")
                )
            await asyncio.sleep(1)
    return has_clock


async def _existing(
    client: httpx.AsyncClient, requesters: list[str], admin: dict[str, str]
) -> Counter[str]:
    """How many tickets exist per ticket id among our requesters' tickets."""
    seen: Counter[str] = Counter()
    for requester in requesters:
        cursor = None
        while True:
            params: dict[str, str | int] = {"requester_id": requester, "limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/api/v1/tickets", params=params, headers=admin)).json()
            seen.update(t["id"] for t in page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                break
    return seen


async def main() -> None:
    stack = Stack.from_env()
    config = load()
    admin = stack.auth(unique("chaos-admin"), "admin", "agent")
    run = Run()
    phases: list[Phase] = []
    started_wall = time.time() - 1
    dlq_before = await _dlq_ends(stack)
    async with httpx.AsyncClient(base_url=stack.url("ticket"), timeout=10) as client:
        requesters = [
            (await put_person(client, admin, unique("chaos")))["id"] for _ in range(REQUESTERS)
        ]
        creates: list[asyncio.Task[None]] = []
        for part in PARTS:
            phase = Phase(part, time.monotonic())
            phases.append(phase)
            killer = asyncio.create_task(_kill_and_watch(phase, config, stack))
            i = 0
            while time.monotonic() < phase.started + PHASE:
                key = f"chaos-{uuid.uuid4().hex}"
                body = {
                    "type": "incident",
                    "title": f"Chaos ticket during {part}",
                    "description": "Created by the chaos run.",
                    "requester_id": requesters[i % REQUESTERS],
                    "impact": "medium",
                    "urgency": "medium",
                }
                phase.keys.append(key)
                creates.append(asyncio.create_task(_create(client, run, key, body, admin)))
                i += 1
                await asyncio.sleep(1 / RATE)
            await killer
        await asyncio.gather(*creates)
        has_clock = await _settle(client, stack, run, admin)
        existing = await _existing(client, requesters, admin)
    await asyncio.sleep(10)  # the last confirmation mails
    mails = _confirmations(stack.maildir, started_wall, set(run.numbers.values()))
    unpublished = await _unpublished(stack)
    dlq_after = await _dlq_ends(stack)
    new_dlq = sum(dlq_after.get(tp, 0) - dlq_before.get(tp, 0) for tp in dlq_after)

    rows = []
    for phase in phases:
        ids = {i for key in phase.keys for i in run.ids.get(key, set())}
        numbers = {run.numbers[i] for i in ids}
        rows.append(
            {
                "killed": phase.part,
                "created": len(ids),
                "lost": sum(1 for key in phase.keys if key in run.lost),
                "double_ids": sum(1 for key in phase.keys if len(run.ids.get(key, ())) > 1),
                "exist": sum(1 for i in ids if existing[i] == 1),
                "clocks": sum(1 for i in ids if has_clock.get(i)),
                "mails": sum(1 for n in numbers if mails.get(n)),
                "duplicate_mails": sum(
                    sum(c.values()) - len(c) for n in numbers if (c := mails.get(n))
                ),
                "extra_message_ids": sum(
                    max(0, len(c) - 1) for n in numbers if (c := mails.get(n))
                ),
                "recovery_s": round(phase.back_after, 1)
                if phase.back_after is not None
                else "not back",
            }
        )
    notes = (
        f"{RATE:g} creates/s, {PHASE:g} s per phase, SIGKILL {KILL_AFTER:g} s into it; "
        f"{run.retries} client retries (same Idempotency-Key); what the failed tries got: "
        f"{dict(run.failures)}. Outbox rows never published: "
        f"{unpublished}. New DLQ records: {new_dlq}. 'exist' counts tickets found exactly once "
        "through the API; 'mails' tickets with a confirmation; 'duplicate_mails' extra copies "
        "of one Message-ID (at-least-once around a crash); 'extra_message_ids' a ticket "
        "confirmed under two Message-IDs (must be 0)."
    )
    write("chaos", "Chaos: each part SIGKILLed under a steady create load", rows, notes)
    failures = [
        row["killed"]
        for row in rows
        if row["lost"]
        or row["double_ids"]
        or row["exist"] != row["created"]
        or row["clocks"] != row["created"]
        or row["mails"] != row["created"]
        or row["extra_message_ids"]
        or row["recovery_s"] == "not back"
    ]
    server_errors = {k: n for k, n in run.failures.items() if k[:1] == "5" and k[:3] != "503"}
    if server_errors:
        failures.append(f"5xx other than 503: {server_errors}")
    if failures or new_dlq or any(unpublished.values()):
        raise RuntimeError(
            f"chaos: invariants broken in phases {failures}, dlq {new_dlq}, outbox {unpublished}"
        )
