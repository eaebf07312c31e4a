"""CPU cost of one ticket creation inside the ticket service, independent of machine load.

Runs the ticket app in-process (its relay and consumers off) against the stack's database
and Kafka, creates tickets sequentially through the ASGI interface, and divides the
process CPU time by the count. The client side (httpx) is measured on ``/healthz`` and
subtracted. This is the figure to drive down: at ~7 ms one core tops out near 140 creates/s.
"""

from __future__ import annotations

import os
import time

import httpx

from stopclock_shared.settings import local_database_url
from stopclock_shared.testing.stack import Stack, unique
from stopclock_ticket.app import TicketSettings, create_app

from .report import write

COUNT = int(os.environ.get("BENCH_TICKET_CPU_COUNT", "300"))


async def main() -> None:
    stack = Stack.from_env()
    settings = TicketSettings(
        kafka_bootstrap=stack.kafka,
        database_url=os.environ.get("STOPCLOCK_TICKET_DATABASE_URL", local_database_url("ticket")),
        consumers_enabled=False,
        relay_enabled=False,
        log_level="WARNING",
    )
    app = create_app(settings)
    admin = stack.auth("bench-cpu", "admin")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ticket") as client:
            person = unique("cpu")
            await client.put(
                f"/api/v1/people/{person}",
                json={"name": "Bench", "email": f"{person}@example.com"},
                headers=admin,
            )
            body = {
                "type": "incident",
                "title": "CPU benchmark",
                "description": "Created by make bench.",
                "requester_id": person,
                "impact": "low",
                "urgency": "low",
            }
            for _ in range(30):  # warm caches (compiled statements, prepared statements)
                await client.post("/api/v1/tickets", json=body, headers=admin)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            for _ in range(COUNT):
                response = await client.post("/api/v1/tickets", json=body, headers=admin)
                assert response.status_code == 201, response.text
            create_cpu = (time.process_time() - cpu0) / COUNT
            wall = (time.perf_counter() - wall0) / COUNT
            cpu0 = time.process_time()
            for _ in range(COUNT):
                await client.get("/healthz")
            client_cpu = (time.process_time() - cpu0) / COUNT
    server_ms = max(0.0, create_cpu - client_cpu) * 1000
    write(
        "ticket_cpu",
        f"CPU per ticket creation in the ticket service ({COUNT} sequential creates)",
        [
            {
                "cpu_ms_per_create": round(server_ms, 2),
                "wall_ms_per_create": round(wall * 1000, 2),
                "one_core_ceiling_per_s": round(1000 / server_ms) if server_ms else 0,
            }
        ],
        "In-process (ASGI), relay and consumers off; the client's own CPU is subtracted.",
    )
