"""What the services really publish fits the contract as code.

A ticket's life (opened, commented, waiting, answered, resolved) makes every service speak;
then every message the five services published on every topic so far (this run's other
tests included) is checked against its payload model in `CONTRACT`. Messages that tests
write themselves carry other sources and are not the services' words.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import orjson
from pydantic import ValidationError

from stopclock_shared.events.contract import CONTRACT
from stopclock_shared.events.topics import ALL_TOPICS
from stopclock_shared.events.types import EventType
from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.kafka_probe import KafkaProbe, read_topic
from stopclock_shared.testing.stack import Stack, unique

SERVICES = {f"stopclock/{s}" for s in ("ticket", "sla", "notification", "escalation", "survey")}


async def test_every_published_message_fits_its_payload_model(stack: Stack) -> None:
    admin = stack.auth("contract-admin", "admin")
    agent = stack.auth("contract-agent", "agent")
    async with (
        httpx.AsyncClient(base_url=stack.url("ticket"), timeout=15) as api,
        KafkaProbe(stack.kafka, "notifications.events") as sent,
    ):
        requester = await put_person(api, admin, unique("contract-requester"))
        ticket = await open_ticket(api, agent, requester["id"])
        await move(api, agent, ticket["id"], "in_progress")
        await move(
            api,
            agent,
            ticket["id"],
            "waiting_on_user",
            reason="info_requested",
            note="Which office are you in?",
        )
        answer = await api.post(
            f"/api/v1/tickets/{ticket['id']}/comments",
            json={"body": "Lyon", "visibility": "public"},
            headers=stack.auth(requester["id"], "requester"),
        )
        assert answer.status_code == 201, answer.text
        await move(api, agent, ticket["id"], "resolved", resolution="Reset the VPN profile.")
        # The survey invitation is the last mail of that life: all services have spoken.
        mails = await sent.events_for(ticket["id"], count=4, timeout=30)
        assert len(mails) >= 4

    seen: Counter[str] = Counter()
    wrong: list[str] = []
    for topic in ALL_TOPICS:
        for raw in await read_topic(stack.kafka, topic):
            envelope = orjson.loads(raw)
            if envelope.get("source") not in SERVICES or envelope.get("type") not in CONTRACT:
                continue
            entry = CONTRACT[EventType(envelope["type"])]
            seen[envelope["type"]] += 1
            if entry.topic != topic:
                wrong.append(f"{envelope['type']} on {topic}, not {entry.topic}")
                continue
            try:
                entry.model.model_validate(envelope["data"])
            except ValidationError as exc:
                wrong.append(f"{envelope['type']} {envelope.get('id')}: {exc.errors()[:3]}")
        await asyncio.sleep(0)
    assert not wrong, "\n".join(wrong[:20])
    life = {
        EventType.TICKET_CREATED,
        EventType.TICKET_STATUS_CHANGED,
        EventType.TICKET_COMMENTED,
        EventType.PERSON_UPDATED,
        EventType.SLA_STARTED,
        EventType.SLA_PAUSED,
        EventType.SLA_RESUMED,
        EventType.SLA_MET,
        EventType.SURVEY_REQUESTED,
        EventType.NOTIFICATION_SENT,
    }
    assert {t.value for t in life} <= set(seen), sorted(set(seen))
