"""Reminder timers under load: how late reminders reach Kafka when many fall due together.

``N`` tickets of a fresh service are put into ``waiting_on_user`` as fast as the ticket API
allows, under a policy whose one reminder falls ``DELAY`` seconds after waiting starts.
Each reminder event carries its due instant as its ``time``; its Kafka record timestamp is
when the broker appended it. Measured: due -> appended (timer lag + transaction + outbox
relay), p50/p99/max, and reminders missing after the wait.
Goal (2 cores, everything co-located): p99 <= 1 s, none missing.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime

import httpx
import orjson

from stopclock_shared.events.topics import ESCALATIONS_EVENTS
from stopclock_shared.events.types import EventType
from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.kafka_probe import KafkaProbe
from stopclock_shared.testing.stack import Stack, unique

from .report import summary_ms, write

TICKETS = int(os.environ.get("BENCH_ESCALATION_TICKETS", "200"))
DELAY = int(os.environ.get("BENCH_ESCALATION_DELAY", "20"))
CONCURRENCY = 16


async def main() -> None:
    stack = Stack.from_env()
    admin = stack.auth("bench-admin", "admin", "agent")
    service = unique("bench-esc")
    async with (
        httpx.AsyncClient(base_url=stack.url("ticket"), timeout=30) as tickets,
        httpx.AsyncClient(base_url=stack.url("escalation"), timeout=30) as escalation,
    ):
        policy = {
            "match": {"service": service},
            "order": 0,
            "reminders": [DELAY],
            "final_grace_seconds": 86_400,
        }
        put = await escalation.put(
            f"/api/v1/escalation/policies/{service}", json=policy, headers=admin
        )
        put.raise_for_status()
        person = await put_person(tickets, admin, unique("bench"))
        waiting: set[str] = set()
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one() -> None:
            async with gate:
                ticket = await open_ticket(tickets, admin, person["id"], service=service)
                await move(tickets, admin, ticket["id"], "in_progress")
                await move(tickets, admin, ticket["id"], "waiting_on_user", reason="user_response")
                waiting.add(ticket["id"])

        async with KafkaProbe(stack.kafka, ESCALATIONS_EVENTS) as probe:
            await asyncio.gather(*(one() for _ in range(TICKETS)))

            def reminder(record: object) -> bool:
                env = orjson.loads(getattr(record, "value", b"") or b"{}")
                return bool(
                    env.get("type") == EventType.ESCALATION_REMINDER
                    and env.get("subject") in waiting
                )

            records = await probe.wait_for(reminder, timeout=DELAY + 60, count=len(waiting))
        await escalation.delete(f"/api/v1/escalation/policies/{service}", headers=admin)

    lags = []
    for record in records:
        env = orjson.loads(record.value or b"{}")
        due = datetime.fromisoformat(env["time"]).timestamp()
        lags.append(max(0.0, record.timestamp / 1000 - due))
    figures = summary_ms(lags)
    write(
        "escalation_reminders",
        f"Reminder timers: {TICKETS} tickets waiting, one reminder {DELAY} s later",
        [
            {
                "tickets": TICKETS,
                "reminders": len(lags),
                "missing": len(waiting)
                - len({orjson.loads(r.value or b"{}")["subject"] for r in records}),
                "due_to_kafka_p50_ms": figures["p50_ms"],
                "due_to_kafka_p99_ms": figures["p99_ms"],
                "due_to_kafka_max_ms": figures["max_ms"],
            }
        ],
        "Goal: p99 <= 1 s (timer lag + transaction + outbox relay), none missing.",
    )
