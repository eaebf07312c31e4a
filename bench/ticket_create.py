"""Ticket creation through the HTTP API: throughput, latency, and commit-to-Kafka latency.

For each concurrency level, ``N`` clients create tickets back to back for a fixed time.
Measured: requests/s, p50/p99 of the POST, and two Kafka figures taken by a consumer
watching ``tickets.events``: POST start -> event received, and commit -> broker append (the
outbox relay), bracketed by the record's producer timestamp minus the ticket's ``created_at``
(taken as the request starts: an upper bound) and minus the 201's arrival (a lower bound).
Goals (2 cores, everything co-located): >= 300 creates/s at p99 <= 50 ms; commit-to-Kafka
p99 <= 50 ms.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime

import httpx
import orjson

from stopclock_shared.events.topics import TICKETS_EVENTS
from stopclock_shared.testing.factories import put_person
from stopclock_shared.testing.kafka_probe import KafkaProbe
from stopclock_shared.testing.stack import Stack, unique

from .load import LoadClient, incident
from .report import percentile, summary_ms, write

LEVELS = [int(x) for x in os.environ.get("BENCH_TICKET_LEVELS", "1,8,32").split(",")]
SECONDS = float(os.environ.get("BENCH_TICKET_SECONDS", "10"))


async def level(
    stack: Stack, setup: httpx.AsyncClient, client: LoadClient, concurrency: int
) -> dict[str, object]:
    admin = stack.auth("bench-admin", "admin", "agent")
    person = await put_person(setup, admin, unique("bench"))
    body = incident(person["id"], "Benchmark ticket", "Created by make bench.")
    latencies: list[float] = []
    started: dict[str, float] = {}
    answered: dict[str, float] = {}  # wall clock when the 201 arrived (after the commit)
    created_at: dict[str, datetime] = {}
    errors = 0
    stop_at = time.perf_counter() + SECONDS

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            status, ticket = await client.post("/api/v1/tickets", body, admin)
            elapsed = time.perf_counter() - t0
            if status != 201:
                errors += 1
                continue
            latencies.append(elapsed)
            started[ticket["id"]] = t0
            created_at[ticket["id"]] = datetime.fromisoformat(ticket["created_at"])
            answered[ticket["id"]] = time.time()

    async with KafkaProbe(stack.kafka, TICKETS_EVENTS) as probe:
        wall = time.perf_counter()
        received: dict[str, float] = {}
        appended: dict[str, float] = {}  # broker append time (producer timestamp)

        async def watch() -> None:
            while True:
                batch = await probe.consumer.getmany(timeout_ms=100)
                now = time.perf_counter()
                for msgs in batch.values():
                    for m in msgs:
                        env = orjson.loads(m.value or b"{}")
                        subject = env.get("subject")
                        if env.get("type", "").endswith("ticket.created.v1") and subject:
                            received[subject] = now
                            appended[subject] = m.timestamp / 1000

        watcher = asyncio.create_task(watch())
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        duration = time.perf_counter() - wall
        deadline = time.perf_counter() + 10
        while len(set(started) - set(received)) and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)

    post_to_event = [received[i] - started[i] for i in started if i in received]
    # The commit happens between the ticket's created_at (taken as the request starts) and
    # the 201 (sent after the commit): the two give an upper and a lower bound.
    commit_to_kafka = [appended[i] - created_at[i].timestamp() for i in created_at if i in appended]
    answer_to_kafka = [max(0.0, appended[i] - answered[i]) for i in answered if i in appended]
    http = summary_ms(latencies)
    return {
        "clients": concurrency,
        "creates": len(latencies),
        "errors": errors,
        "creates_per_s": round(len(latencies) / duration, 1),
        "p50_ms": http["p50_ms"],
        "p99_ms": http["p99_ms"],
        "post_to_event_p50_ms": round(percentile(post_to_event, 50) * 1000, 2),
        "post_to_event_p99_ms": round(percentile(post_to_event, 99) * 1000, 2),
        "commit_to_kafka_p99_ms": round(percentile(commit_to_kafka, 99) * 1000, 2),
        "answer_to_kafka_p99_ms": round(percentile(answer_to_kafka, 99) * 1000, 2),
        "events_missing": len(set(started) - set(received)),
    }


async def main() -> None:
    stack = Stack.from_env()
    rows = []
    async with (
        httpx.AsyncClient(base_url=stack.url("ticket"), timeout=30) as setup,
        LoadClient(stack.url("ticket"), connections=max(LEVELS)) as client,
    ):
        for concurrency in LEVELS:
            rows.append(await level(stack, setup, client, concurrency))
    write(
        "ticket_create",
        f"Ticket creation via POST /api/v1/tickets ({SECONDS:.0f} s per level)",
        rows,
        "Goal: >= 300 creates/s at p99 <= 50 ms; commit-to-Kafka p99 <= 50 ms. "
        "commit_to_kafka: from the ticket's created_at (request start, so an upper bound); "
        "answer_to_kafka: from the 201 arriving (after the commit, so a lower bound).",
    )
