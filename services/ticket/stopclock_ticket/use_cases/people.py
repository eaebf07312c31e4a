"""The people directory: who opens tickets, whose manager to reach."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from stopclock_shared.auth import Principal
from stopclock_shared.errors import Forbidden, Invalid, NotFound
from stopclock_shared.unit_of_work import UnitOfWork

from ..domain import Actor, may_act_for
from ..events import PersonRef, person_ref, person_updated
from ..records import PersonRecord
from ..repository import TicketRepository
from ..schemas import PersonIn


async def put_person(
    uow: UnitOfWork[TicketRepository], person_id: str, body: PersonIn, now: datetime
) -> tuple[PersonRecord, bool]:
    """Create or replace a person (the flag: created) and announce it: other services keep
    a copy of the directory (the mail gateway: who writes to the desk)."""
    if body.manager_id == person_id:
        raise Invalid.field("manager_id", "A person cannot be their own manager")
    person, created = await uow.repo.upsert_person(person_id, body.model_dump(), now)
    refs = await person_refs(uow, [person_id])
    await uow.emit(*person_updated(refs[person_id], now))
    return person, created


async def get_person(
    uow: UnitOfWork[TicketRepository], principal: Principal, person_id: str
) -> PersonRecord:
    if not may_act_for(actor_of(principal), person_id):
        raise Forbidden("Requesters may only read their own profile")
    person = await uow.repo.get_person(person_id)
    if person is None:
        raise NotFound("Person", person_id)
    return person


def actor_of(principal: Principal) -> Actor:
    """The domain's view of who is acting: the token's principal itself."""
    return principal


async def person_refs(
    uow: UnitOfWork[TicketRepository], ids: Iterable[str | None]
) -> dict[str, PersonRef]:
    """People with their manager's contact, for snapshots (one round trip)."""
    found = await uow.repo.people_with_managers([i for i in ids if i])
    return {pid: person_ref(person, boss) for pid, (person, boss) in found.items()}
