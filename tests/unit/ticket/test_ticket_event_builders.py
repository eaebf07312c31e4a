"""The events the ticket service emits (events.py): they fit their contract models, in the
models' field order, with times as ``isoformat()`` — the wire form consumers have read
since the first version."""

from __future__ import annotations

import uuid
from typing import cast

from stopclock_shared.events.contract import CONTRACT
from stopclock_shared.events.outages import OutageData
from stopclock_shared.events.people import PersonRef
from stopclock_shared.events.tickets import TicketSnapshot
from stopclock_shared.events.types import EventType
from stopclock_ticket import use_cases
from stopclock_ticket.domain import Level
from stopclock_ticket.events import outage_data, person_ref, snapshot_of
from stopclock_ticket.records import OutageRecord, PersonRecord
from stopclock_ticket.schemas import CommentIn, OutageIn, TicketUpdate, TransitionIn

from .fakes import unit_of_work
from .givens import (
    AGENT,
    ALICE,
    BOSS,
    IN_PROGRESS,
    LATER,
    NOW,
    REQUESTER,
    WAITING,
    directory,
    ticket_body,
)


def test_a_person_ref_has_the_contracts_fields_in_order() -> None:
    # Records are dicts at runtime: a person whose every field names itself.
    person = cast(PersonRecord, {name: f"{name}-value" for name in PersonRef.model_fields})
    boss = cast(PersonRecord, {"email": "boss@example.com", "name": "Boss"})
    ref = person_ref(person, boss)
    assert list(ref) == list(PersonRef.model_fields)
    assert (ref["manager_email"], ref["manager_name"]) == ("boss@example.com", "Boss")
    assert person_ref(person, None)["manager_email"] is None


async def test_every_event_fits_its_model_with_the_snapshot_in_contract_order() -> None:
    uow = unit_of_work()
    await directory(uow)
    ticket = await use_cases.open_ticket(uow, AGENT, ticket_body(), NOW)
    await use_cases.update_ticket(uow, AGENT, ticket["id"], TicketUpdate(impact=Level.HIGH), NOW)
    await use_cases.change_status(uow, AGENT, ticket["id"], TransitionIn(**IN_PROGRESS), NOW)
    await use_cases.change_status(uow, AGENT, ticket["id"], TransitionIn(**WAITING), LATER)
    await use_cases.add_comment(uow, ALICE, ticket["id"], CommentIn(body="Paris"), LATER)
    assert len(set(uow.types())) == 6  # person, created, updated, priority, status, comment
    for _, _, envelope in uow.emitted:
        CONTRACT[EventType(envelope.type)].model.model_validate(envelope.data)
    stored = await uow.repo.get_ticket(ticket["id"])
    requester, boss = await uow.repo.get_person(REQUESTER), await uow.repo.get_person(BOSS)
    assert stored is not None
    assert requester is not None
    refs = {REQUESTER: person_ref(requester, boss)}
    snapshot = snapshot_of(stored, refs)
    assert list(snapshot) == list(TicketSnapshot.model_fields)
    assert uow.emitted[-1][2].data["ticket"] == snapshot
    waited = uow.envelopes(EventType.TICKET_STATUS_CHANGED)[1].data["ticket"]
    assert waited["waiting_since"] == LATER.isoformat()  # "+00:00", as ever, not "Z"


def test_outage_data_has_the_contracts_fields_in_order() -> None:
    declared = OutageIn(service="vpn", title="Down", description="d", impact=Level.HIGH)
    outage = OutageRecord(
        id=uuid.uuid4(),
        service=declared.service,
        title=declared.title,
        description=declared.description,
        impact=declared.impact,
        status="active",
        created_at=LATER,
        resolved_at=None,
    )
    data = outage_data(outage)
    assert list(data) == list(OutageData.model_fields)
    assert (data["id"], data["created_at"]) == (str(outage["id"]), LATER.isoformat())
