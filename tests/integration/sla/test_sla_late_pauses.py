"""A breach is never wrong: timers fire on the wall clock but decide on event time
(docs/sla-timing.md), on the real stack.

Issue 12's cases, with a 20 s target: the ticket is paused through the API at +10 s while
the pause cannot reach the sla service (the broker stalled, or the sla service frozen),
and the pause arrives after the deadline. The clock ends `paused`; no `sla.breached`, no
`sla_breach` escalation, no breach mail. A control ticket of the same policy that nobody
paused breaches at its deadline, announced once the service knows it: the very same
pipeline would have announced the paused one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from private_sla import replicas, start_group_at_the_end, tails, throwaway_database, wait_until
from sla_support import aftermath, at, clock, clocks_of, envelope, is_ours, policy_body, put_policy

from stopclock_shared.events.topics import SLA_EVENTS
from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.kafka_probe import KafkaProbe
from stopclock_shared.testing.stack import Stack, unique

pytestmark = pytest.mark.slow
TARGET = 20.0
STALL_FROM = 5.0  # seconds after the paused ticket's clock started
PAUSE_AT = 10.0


async def until(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, moment.timestamp() - time.time()))


async def scenario(
    ticket_api: httpx.AsyncClient,
    sla_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
    *,
    stall: Callable[[], None],
    resume: Callable[[], None],
    stall_until: float,
) -> None:
    """Pause one ticket through the API while `stall` holds, past its deadline; check that
    it never breached while its unpaused twin did."""
    service = unique("svc")
    policy = (await put_policy(sla_api, admin, policy_body(service, TARGET)))["name"]
    person = await put_person(ticket_api, admin)
    async with KafkaProbe(stack.kafka, SLA_EVENTS) as probe:
        paused = await open_ticket(ticket_api, admin, person["id"], service=service)
        control = await open_ticket(ticket_api, admin, person["id"], service=service)
        await move(ticket_api, admin, paused["id"], "in_progress")
        [started] = await probe.wait_for(is_ours(policy, "started", paused["id"]), timeout=20)
        await probe.wait_for(is_ours(policy, "started", control["id"]), timeout=5)
        origin = at(envelope(started)["data"]["started_at"])
        assert time.time() < origin.timestamp() + STALL_FROM, "too slow to set the case up"

        await until(origin + timedelta(seconds=STALL_FROM))
        stall()
        try:
            await until(origin + timedelta(seconds=PAUSE_AT))
            await move(ticket_api, admin, paused["id"], "waiting_on_user", reason="info_requested")
            await until(origin + timedelta(seconds=stall_until))
        finally:
            resume()

        # The control ticket breached at its deadline; once that is announced (and mailed),
        # anything announced about the paused ticket would be there too.
        [breach] = await probe.wait_for(is_ours(policy, "breached", control["id"]), timeout=30)
        data = envelope(breach)["data"]
        assert at(data["breached_at"]) == at(data["due_at"])

        async def control_mailed() -> bool:
            return "sla_breached" in (await aftermath(stack, admin, control["id"]))[1]

        await wait_until(control_mailed, 30, "the control ticket's breach mail")
        breaches = await probe.wait_for(is_ours(policy, "breached", paused["id"]), timeout=1)

    assert breaches == []
    read = clock(await clocks_of(sla_api, admin, paused["id"]), "resolution")
    assert (read["state"], read["breached_at"]) == ("paused", None)
    assert read["remaining_seconds"] == pytest.approx(TARGET - PAUSE_AT, abs=1.0)
    escalations, mails = await aftermath(stack, admin, paused["id"])
    assert "sla_breach" not in escalations
    assert "sla_breached" not in mails


async def test_a_pause_that_waited_out_a_frozen_sla_service_is_never_a_breach(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack, tmp_path: Path
) -> None:
    """The sla service is frozen (SIGSTOP) from +5 s to +30 s: on SIGCONT its overdue timer
    fires at once, while the pause is still on the topic, unread. A private sla process, so
    the stack's own keeps serving the other tests."""
    suffix = "-" + unique("frozen")
    await start_group_at_the_end(stack, f"stopclock-sla{suffix}")
    async with throwaway_database(stack) as database, httpx.AsyncClient(timeout=10) as http:
        with replicas(stack, database, suffix, tmp_path, ("frozen",)) as (sla,):

            async def ready() -> bool:
                return await sla.ready(http) and len(sla.partitions()) == 12

            await wait_until(ready, 60, "the private sla service ready with every partition")
            try:
                async with httpx.AsyncClient(base_url=sla.url, timeout=10) as sla_api:
                    await scenario(
                        ticket_api,
                        sla_api,
                        admin,
                        stack,
                        stall=lambda: sla.proc.send_signal(signal.SIGSTOP),
                        resume=lambda: sla.proc.send_signal(signal.SIGCONT),
                        stall_until=30.0,
                    )
            except BaseException:
                print(tails(sla))
                raise


def kafka_pid(stack: Stack) -> int:
    return int((stack.repo_root / ".local" / "run" / "kafka.pid").read_text().strip())


async def test_a_pause_made_while_the_broker_stalled_is_never_a_breach(
    ticket_api: httpx.AsyncClient,
    sla_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    """The stack's broker is stalled (SIGSTOP) from +5 s to +24 s: the pause waits in the
    ticket service's outbox while the sla service's timer falls due. Every service of the
    stack is affected for those 19 s."""
    pid = kafka_pid(stack)

    def signal_kafka(sig: signal.Signals) -> Callable[[], None]:
        return lambda: os.kill(pid, sig)

    run: Awaitable[None] = scenario(
        ticket_api,
        sla_api,
        admin,
        stack,
        stall=signal_kafka(signal.SIGSTOP),
        resume=signal_kafka(signal.SIGCONT),
        stall_until=24.0,
    )
    try:
        await run
    finally:
        os.kill(pid, signal.SIGCONT)  # never leave the stack's broker stopped
