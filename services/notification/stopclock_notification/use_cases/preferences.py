"""A person's choice of optional mails: read it, replace it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from stopclock_shared.auth import Principal
from stopclock_shared.errors import FieldError, Forbidden, Invalid

from ..domain import opt_out_problems
from ..repository import PersonPreferences
from . import NotificationUnitOfWork


class RefusedOptOut(Invalid):
    """Unknown or mandatory kinds in an opt-out list; ``detail`` names each kind and why."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        super().__init__(errors)
        self.detail = "; ".join(e.message for e in self.errors)


def _may_manage(principal: Principal, person_id: str) -> None:
    if not principal.is_staff and principal.sub != person_id:
        raise Forbidden("Requesters may only manage their own preferences")


async def get_preferences(
    uow: NotificationUnitOfWork, principal: Principal, person_id: str
) -> PersonPreferences:
    """A person's opt-outs; someone who never chose has opted out of nothing."""
    _may_manage(principal, person_id)
    found = await uow.repo.get_preferences(person_id)
    if found is None:
        return PersonPreferences(person_id=person_id, opt_out=[], updated_at=None)
    return found


async def put_preferences(
    uow: NotificationUnitOfWork,
    principal: Principal,
    person_id: str,
    kinds: list[str],
    now: datetime,
) -> PersonPreferences:
    """Replace a person's opt-outs; unknown and mandatory kinds are refused (`Invalid`)."""
    _may_manage(principal, person_id)
    problems = opt_out_problems(kinds)
    if problems:
        raise RefusedOptOut(
            FieldError(f"opt_out.{i}", f"{kind}: {problems[kind]}")
            for i, kind in enumerate(kinds)
            if kind in problems
        )
    return await uow.repo.put_preferences(person_id, sorted(set(kinds)), now)
