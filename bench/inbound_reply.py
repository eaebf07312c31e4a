"""A requester's emailed answer, end to end: SMTP in -> ticket ``in_progress`` -> SLA clock running.

Set-up (not measured): ``BENCH_INBOUND_TICKETS`` requesters, each with one incident that an
agent moved to ``waiting_on_user`` (info requested), so every SLA clock is paused.

Measured on the running stack:

* **latency** at ``BENCH_INBOUND_RATE`` mails/s (default 20): each requester replies once to the
  ``Reply-To`` address of our mail (one SMTP transaction to the inbound port). Per ticket, from
  the moment the SMTP transaction starts to the arrival on ``tickets.events`` of its
  ``status_changed`` to ``in_progress``, and to the arrival on ``sla.events`` of its first
  ``resumed`` (the clock runs again). Goal (issue 11): p99 <= 500 ms on this machine.
* **intake**: the same requesters write once more, as fast as ``BENCH_INBOUND_CONNECTIONS``
  SMTP connections can deliver; mails/s taken in (250 answers), each a recorded inbound mail
  and a comment command in the outbox.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage

import aiosmtplib
import httpx
import orjson
from aiokafka import ConsumerRecord
from pydantic import SecretStr

from stopclock_shared.events.topics import SLA_EVENTS, TICKETS_EVENTS
from stopclock_shared.events.types import EventType
from stopclock_shared.links import reply_address
from stopclock_shared.settings import Settings
from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.kafka_probe import KafkaProbe
from stopclock_shared.testing.stack import Stack, unique

from .report import percentile, write

TICKETS = int(os.environ.get("BENCH_INBOUND_TICKETS", "200"))
RATE = float(os.environ.get("BENCH_INBOUND_RATE", "20"))
CONNECTIONS = int(os.environ.get("BENCH_INBOUND_CONNECTIONS", "4"))
INBOUND_HOST = os.environ.get("STOPCLOCK_INBOUND_SMTP_HOST", "127.0.0.1")
INBOUND_PORT = int(os.environ.get("STOPCLOCK_INBOUND_SMTP_PORT", "2525"))
SETUP_CONCURRENCY = 8


@dataclass
class Waiting:
    ticket_id: str
    number: str
    email: str
    reply_to: str
    sent: float = 0.0


@dataclass
class Arrivals:
    """First arrival (monotonic seconds) per ticket of the events that end the wait."""

    in_progress: dict[str, float] = field(default_factory=dict)
    resumed: dict[str, float] = field(default_factory=dict)

    def see(self, record: ConsumerRecord[bytes, bytes], now: float) -> None:
        envelope = orjson.loads(record.value or b"{}")
        subject, kind = envelope.get("subject"), envelope.get("type")
        data = envelope.get("data") or {}
        if kind == EventType.TICKET_STATUS_CHANGED and data.get("to_status") == "in_progress":
            self.in_progress.setdefault(subject, now)
        elif kind == EventType.SLA_RESUMED:
            self.resumed.setdefault(subject, now)


async def _prepare(stack: Stack) -> list[Waiting]:
    admin = stack.auth(unique("bench-admin"), "admin", "agent")
    key = Settings(jwt_secret=SecretStr(stack.jwt_secret)).link_key
    desk = Settings().desk_address
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(client: httpx.AsyncClient) -> Waiting:
        async with gate:
            person = await put_person(client, admin, unique("inb"))
            ticket = await open_ticket(client, admin, person["id"], title="Printer jams")
            await move(client, admin, ticket["id"], "in_progress")
            await move(
                client,
                admin,
                ticket["id"],
                "waiting_on_user",
                reason="info_requested",
                note="Which printer, and since when?",
            )
        address = reply_address(key, desk, uuid.UUID(ticket["id"]), person["email"])
        return Waiting(ticket["id"], ticket["number"], person["email"], address)

    async with httpx.AsyncClient(base_url=stack.url("ticket"), timeout=30) as client:
        return list(await asyncio.gather(*(one(client) for _ in range(TICKETS))))


def _reply(waiting: Waiting, text: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = waiting.email
    mail["To"] = waiting.reply_to
    mail["Subject"] = f"Re: [{waiting.number}] Printer jams"
    mail["Message-ID"] = f"<{uuid.uuid4().hex}@bench.example.com>"
    mail.set_content(f"{text}\n\nOn Monday, the service desk wrote:\n> Which printer?\n")
    return mail


async def _send(client: aiosmtplib.SMTP, waiting: Waiting, text: str) -> None:
    mail = _reply(waiting, text)
    await client.send_message(mail, sender=waiting.email, recipients=[waiting.reply_to])


async def _watch(probe: KafkaProbe, arrivals: Arrivals, stop: asyncio.Event) -> None:
    while not stop.is_set():
        batch = await probe.consumer.getmany(timeout_ms=100)
        now = time.monotonic()
        for records in batch.values():
            for record in records:
                arrivals.see(record, now)


async def _latency(stack: Stack, tickets: list[Waiting]) -> tuple[Arrivals, float]:
    arrivals = Arrivals()
    stop = asyncio.Event()
    async with (
        KafkaProbe(stack.kafka, TICKETS_EVENTS) as status,
        KafkaProbe(stack.kafka, SLA_EVENTS) as sla,
    ):
        watchers = [
            asyncio.create_task(_watch(status, arrivals, stop)),
            asyncio.create_task(_watch(sla, arrivals, stop)),
        ]
        clients = [aiosmtplib.SMTP(hostname=INBOUND_HOST, port=INBOUND_PORT) for _ in range(4)]
        for client in clients:
            await client.connect()
        started = time.monotonic()
        sends = []
        for i, waiting in enumerate(tickets):
            due = started + i / RATE
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            waiting.sent = time.monotonic()
            sends.append(asyncio.create_task(_send(clients[i % 4], waiting, "HP on floor 3.")))
        await asyncio.gather(*sends)
        offered = len(tickets) / (time.monotonic() - started)
        deadline = time.monotonic() + 30
        wanted = {w.ticket_id for w in tickets}
        while time.monotonic() < deadline and not wanted <= set(arrivals.resumed):
            await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(*watchers)
        for client in clients:
            await client.quit()
    return arrivals, offered


async def _intake(tickets: list[Waiting]) -> float:
    queue: asyncio.Queue[Waiting] = asyncio.Queue()
    for waiting in tickets:
        queue.put_nowait(waiting)

    async def worker() -> None:
        client = aiosmtplib.SMTP(hostname=INBOUND_HOST, port=INBOUND_PORT)
        await client.connect()
        while not queue.empty():
            await _send(client, queue.get_nowait(), "One more detail: it is the duplex tray.")
        await client.quit()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return len(tickets) / (time.monotonic() - started)


async def main() -> None:
    stack = Stack.from_env()
    tickets = await _prepare(stack)
    await asyncio.sleep(3)  # let the waits reach the SLA service (clocks paused)
    arrivals, offered = await _latency(stack, tickets)
    to_status = [
        arrivals.in_progress[w.ticket_id] - w.sent
        for w in tickets
        if w.ticket_id in arrivals.in_progress
    ]
    to_clock = [
        arrivals.resumed[w.ticket_id] - w.sent for w in tickets if w.ticket_id in arrivals.resumed
    ]
    intake = await _intake(tickets)
    rows = [
        {
            "measure": "mail -> ticket in_progress",
            "n": len(to_status),
            "p50_ms": round(percentile(to_status, 50) * 1000, 1),
            "p99_ms": round(percentile(to_status, 99) * 1000, 1),
            "max_ms": round(max(to_status, default=0) * 1000, 1),
        },
        {
            "measure": "mail -> SLA clock running",
            "n": len(to_clock),
            "p50_ms": round(percentile(to_clock, 50) * 1000, 1),
            "p99_ms": round(percentile(to_clock, 99) * 1000, 1),
            "max_ms": round(max(to_clock, default=0) * 1000, 1),
        },
    ]
    lost = len(tickets) - len(to_clock)
    notes = (
        f"{len(tickets)} replies offered at {offered:.1f} mails/s (target {RATE:g}/s) to the "
        f"inbound SMTP port; {lost} clock(s) not seen running within 30 s. Intake: "
        f"{intake:.1f} mails/s taken in over {CONNECTIONS} SMTP connections "
        f"({len(tickets)} more replies). Goal: p99 mail -> clock running <= 500 ms at 20 mails/s."
    )
    write("inbound_reply", "Inbound reply: mail -> in_progress -> clock running", rows, notes)
