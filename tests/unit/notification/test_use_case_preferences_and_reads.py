"""Preferences and the two logs (`use_cases.preferences`, `use_cases.reads`) on fakes: who may
see and change what, and the refusals as domain errors (mapped to 403 / 422 at the edge)."""

from __future__ import annotations

import uuid
from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest

from stopclock_notification.repository import (
    InboundLogQuery,
    InboundRecord,
    MailLogQuery,
    PersonPreferences,
    StoredMail,
)
from stopclock_notification.schemas import NotificationRead, PreferencesRead
from stopclock_notification.use_cases.preferences import get_preferences, put_preferences
from stopclock_notification.use_cases.reads import list_inbound, list_notifications
from stopclock_shared.auth import Principal, Role
from stopclock_shared.errors import Forbidden, Invalid
from stopclock_shared.events.types import EventType as T
from stopclock_shared.problems import problem_of

from . import factories as f
from .fakes import FakeUow, commit, new_uow
from .test_use_case_mails import record

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def requester(sub: str) -> Principal:
    return Principal(sub=sub, roles=frozenset({Role.REQUESTER}))


AGENT = Principal(sub="agent-1", roles=frozenset({Role.AGENT}))


async def test_someone_who_never_chose_has_opted_out_of_nothing() -> None:
    found = await get_preferences(new_uow(), requester("ada"), "ada")

    assert found == {"person_id": "ada", "opt_out": [], "updated_at": None}


async def test_a_person_replaces_their_opt_outs_sorted_and_without_repeats() -> None:
    uow = new_uow()

    put = await put_preferences(
        uow, requester("ada"), "ada", ["survey_invitation", "closed", "closed"], NOW
    )

    assert put == {
        "person_id": "ada",
        "opt_out": ["closed", "survey_invitation"],
        "updated_at": NOW,
    }
    assert await get_preferences(uow, requester("ada"), "ada") == put


async def test_staff_may_manage_anyones_preferences() -> None:
    uow = new_uow()

    await put_preferences(uow, AGENT, "ada", ["closed"], NOW)

    assert (await get_preferences(uow, AGENT, "ada"))["opt_out"] == ["closed"]


async def test_a_requester_may_not_read_someone_elses_preferences() -> None:
    with pytest.raises(Forbidden, match="only manage their own preferences"):
        await get_preferences(new_uow(), requester("eve"), "ada")


async def test_a_requester_may_not_change_someone_elses_preferences() -> None:
    uow = new_uow()

    with pytest.raises(Forbidden, match="only manage their own preferences"):
        await put_preferences(uow, requester("eve"), "ada", [], NOW)
    assert uow.repo.preferences == {}


async def test_mandatory_and_unknown_kinds_are_refused_each_named_and_nothing_stored() -> None:
    uow = new_uow()

    with pytest.raises(Invalid) as refused:
        await put_preferences(
            uow, requester("ada"), "ada", ["closed", "ticket_opened", "spam"], NOW
        )

    problem = problem_of(refused.value)
    assert problem.status == 422
    assert [e["field"] for e in problem.errors or []] == ["opt_out.1", "opt_out.2"]
    assert problem.detail.startswith("ticket_opened: ")
    assert "; spam: " in problem.detail
    assert uow.repo.preferences == {}


async def logged(uow: FakeUow) -> tuple[str, str]:
    """Two mails: an outage notice to two subscribers; returns their person ids."""
    ada, bob = f.person_ref(), f.person_ref()
    await record(uow, T.OUTAGE_DECLARED, f.outage_event(subscribers=[ada, bob]))
    commit(uow)
    return ada["id"], bob["id"]


async def test_a_requester_sees_only_the_mails_addressed_to_them() -> None:
    uow = new_uow()
    ada, _ = await logged(uow)

    mine = await list_notifications(uow, requester(ada), MailLogQuery(10))
    everyone = await list_notifications(uow, AGENT, MailLogQuery(10))

    assert [m.recipient_id for m in mine] == [ada]
    assert len(everyone) == 2


async def test_the_mail_log_filters_by_recipient_and_status() -> None:
    uow = new_uow()
    _, bob = await logged(uow)

    found = await list_notifications(uow, AGENT, MailLogQuery(10, recipient=bob, status="pending"))
    none_sent = await list_notifications(uow, AGENT, MailLogQuery(10, status="sent"))

    assert [m.recipient_id for m in found] == [bob]
    assert none_sent == []


async def test_only_staff_may_read_the_inbound_log() -> None:
    uow = new_uow()
    record_ = InboundRecord(
        id=uuid.uuid4(),
        received_at=NOW,
        message_id="<m@x>",
        sender="ada@example.test",
        subject="Hi",
        raw_size=10,
        raw=None,
        outcome="rejected",
        detail="stranger",
    )
    await uow.repo.insert_inbound(record_)
    later = NOW + timedelta(minutes=1)
    await uow.repo.insert_inbound(
        InboundRecord(
            uuid.uuid4(), later, "<n@x>", "bob@example.test", "Yo", 5, None, "rejected", ""
        )
    )

    found = await list_inbound(uow, AGENT, InboundLogQuery(10, sender="ADA@example.test "))
    with pytest.raises(Forbidden, match="Only staff"):
        await list_inbound(uow, requester("ada"), InboundLogQuery(10))

    assert [r["message_id"] for r in found] == ["<m@x>"]


def test_the_read_models_carry_the_fields_the_api_answers_with() -> None:
    # A field the response model wants and the read model lacks would be a 500.
    assert list(PersonPreferences.__annotations__) == list(PreferencesRead.model_fields)
    assert set(NotificationRead.model_fields) <= {f.name for f in fields(StoredMail)}
