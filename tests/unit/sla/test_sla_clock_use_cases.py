"""Use cases on tickets' clocks, on the fake repository: ticket events start, pause, resume
and meet clocks exactly once; timers decide up to their horizon; readers see only their own
tickets."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sla_edge_builders import (
    TICKET_ID,
    commented,
    created,
    priority_changed,
    snapshot,
    status_changed,
)
from sla_fakes import FakeSlaRepository, SlaUow, unit_of_work

from stopclock_shared.auth import Principal, Role
from stopclock_shared.errors import Forbidden, NotFound
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.sla import SlaClockEvent
from stopclock_shared.events.tickets import TicketSnapshot, TicketStatusChanged
from stopclock_shared.events.types import EventType
from stopclock_sla import use_cases
from stopclock_sla.timer_notes import TimerNote
from stopclock_sla.use_cases import Saved, TicketEvent
from stopclock_sla.version_cache import VersionCache

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)
TICKET = uuid.UUID(TICKET_ID)
PARTITION = 3
AGENT = Principal("agent-1", frozenset({Role.AGENT}))
REQUESTER = Principal("req-1", frozenset({Role.REQUESTER}))
STRANGER = Principal("req-2", frozenset({Role.REQUESTER}))


class Desk:
    """The default policies (P3: first response 4 h, resolution 24 h, 24x7) and one cache."""

    def __init__(self) -> None:
        self.repo = FakeSlaRepository()
        self.cache = VersionCache()

    async def seed(self) -> Desk:
        uow = unit_of_work(self.repo)
        await use_cases.seed_defaults(uow, T0, default_policies=True)
        uow.commit()
        return self

    async def apply(
        self, env: Envelope, event: TicketEvent, partition: int = PARTITION
    ) -> tuple[Saved, SlaUow]:
        uow = unit_of_work(self.repo)
        saved = await use_cases.apply_ticket_event(
            uow, self.cache, env, event, partition, env.time + timedelta(seconds=1)
        )
        return saved, uow

    async def fire(self, now: datetime, until: datetime | None) -> tuple[list[Saved], SlaUow]:
        uow = unit_of_work(self.repo)
        saved = await use_cases.fire_due(uow, self.cache, [TICKET_ID], now, lambda _p: until)
        return saved, uow

    def stored(self) -> dict[str, object]:
        return self.repo.clocks[TICKET]


def published(uow: SlaUow) -> list[tuple[str, str, str]]:
    """(type, target, state) of the SLA events written, in order."""
    found: list[tuple[str, str, str]] = []
    for topic, key, env in uow.emitted:
        assert (topic, key) == ("sla.events", TICKET_ID)
        data = SlaClockEvent.model_validate(env.data)
        found.append((env.type, data.target, data.state))
    return found


async def desk_with_ticket() -> Desk:
    desk = await Desk().seed()
    await desk.apply(*created(T0))
    return desk


# --- created ------------------------------------------------------------------------------


async def test_a_new_ticket_starts_its_clocks_and_its_timer() -> None:
    desk = await Desk().seed()
    env, event = created(T0)
    saved, uow = await desk.apply(env, event)
    assert published(uow) == [
        (EventType.SLA_STARTED, "first_response", "running"),
        (EventType.SLA_STARTED, "resolution", "running"),
    ]
    assert all(e.causationid == env.id for _, _, e in uow.emitted)
    assert (saved.ticket_id, saved.partition, saved.priority) == (TICKET_ID, PARTITION, "P3")
    assert saved.next_due == T0 + 2 * HOUR  # the first warning: half of the 4 h response
    assert desk.repo.notes == [TimerNote(TICKET_ID, PARTITION, saved.next_due).encode()]
    row = desk.stored()
    assert (row["partition"], row["resolution_started_at"], row["next_due"]) == (
        PARTITION,
        T0,
        saved.next_due,
    )
    assert row["clock_states"] == ["running", "running"]


async def test_a_redelivered_created_event_changes_nothing() -> None:
    desk = await desk_with_ticket()
    notes = list(desk.repo.notes)
    saved, uow = await desk.apply(*created(T0))
    assert (saved.events, uow.emitted) == ((), [])
    assert desk.repo.notes == notes  # the timer did not move: no note


async def test_a_ticket_first_seen_by_a_later_event_is_adopted() -> None:
    desk = await Desk().seed()
    saved, uow = await desk.apply(*status_changed(T0 + HOUR, 2, "in_progress"))
    started = [(t, target) for t, target, _ in published(uow) if t == EventType.SLA_STARTED]
    assert started == [
        (EventType.SLA_STARTED, "first_response"),
        (EventType.SLA_STARTED, "resolution"),
    ]
    # Started at the snapshot's created_at, then the event at hand applied.
    assert desk.stored()["resolution_started_at"] == T0 + HOUR
    assert saved.next_due is not None


# --- status, comments, priority -----------------------------------------------------------


async def test_waiting_on_the_requester_pauses_and_the_answer_resumes() -> None:
    desk = await desk_with_ticket()
    paused, uow = await desk.apply(
        *status_changed(T0 + HOUR, 2, "waiting_on_user", "info_requested")
    )
    assert published(uow) == [
        (EventType.SLA_PAUSED, "first_response", "paused"),
        (EventType.SLA_PAUSED, "resolution", "paused"),
    ]
    assert paused.next_due is None  # nothing runs: no timer
    assert desk.repo.notes[-1] == TimerNote(TICKET_ID, PARTITION, None).encode()
    resumed, uow = await desk.apply(*status_changed(T0 + 3 * HOUR, 3, "in_progress"))
    assert (EventType.SLA_RESUMED, "resolution", "running") in published(uow)
    # The resolution clock counts again, the 2 h paused left out: 50 % of 24 h at T0 + 14 h.
    assert resumed.next_due == T0 + 14 * HOUR


async def test_a_public_desk_comment_meets_the_first_response() -> None:
    desk = await desk_with_ticket()
    _, uow = await desk.apply(*commented(T0 + HOUR, 2, public=True, by_requester=False))
    assert published(uow) == [(EventType.SLA_MET, "first_response", "met")]


@pytest.mark.parametrize(
    ("public", "by_requester"), [(False, False), (True, True)], ids=["internal", "requester"]
)
async def test_other_comments_are_no_response(public: bool, by_requester: bool) -> None:
    desk = await desk_with_ticket()
    _, uow = await desk.apply(*commented(T0 + HOUR, 2, public=public, by_requester=by_requester))
    assert uow.emitted == []


async def test_a_priority_change_moves_the_clocks_to_the_new_policy() -> None:
    desk = await desk_with_ticket()
    saved, uow = await desk.apply(*priority_changed(T0 + 5 * 60 * timedelta(seconds=1), 2, "P1"))
    assert saved.priority == "P1"
    # default-p1: a 15 min response, half of it gone at T0 + 7.5 min
    assert saved.next_due == T0 + timedelta(minutes=7, seconds=30)
    assert uow.emitted == []  # a retargeting is not published
    assert desk.stored()["ticket"]["priority"] == "P1"  # type: ignore[index]


async def test_a_redelivered_older_event_neither_applies_again_nor_rolls_the_snapshot_back() -> (
    None
):
    desk = await desk_with_ticket()
    await desk.apply(*status_changed(T0 + HOUR, 2, "waiting_on_user", "info_requested"))
    await desk.apply(*status_changed(T0 + 2 * HOUR, 3, "in_progress"))
    saved, uow = await desk.apply(
        *status_changed(T0 + HOUR, 2, "waiting_on_user", "info_requested")
    )
    assert (uow.emitted, saved.late) == ([], False)
    ticket = TicketSnapshot.model_validate(desk.stored()["ticket"])
    assert (ticket.version, ticket.status) == (3, "in_progress")


async def test_a_fact_older_than_a_decision_is_late_and_applied_at_the_decision() -> None:
    desk = await desk_with_ticket()
    await desk.fire(T0 + 3 * HOUR, T0 + 3 * HOUR)  # warnings decided at T0 + 2 h and + 3 h
    saved, uow = await desk.apply(
        *status_changed(T0 + HOUR, 2, "waiting_on_user", "info_requested")
    )
    assert saved.late
    assert {env.time for _, _, env in uow.emitted} == {T0 + 3 * HOUR}  # the last decision


def _waits(reason: str, question: str) -> float:
    value = REGISTRY.get_sample_value(
        "stopclock_sla_waits_total", {"reason": reason, "question": question}
    )
    return value or 0.0


async def test_the_pause_audit_counts_a_wait_once_committed_and_once_only() -> None:
    desk = await desk_with_ticket()
    before = _waits("user_validation", "none")
    env, event = status_changed(T0 + HOUR, 2, "waiting_on_user", "user_validation")
    saved, uow = await desk.apply(env, event)
    assert saved.audit is not None
    assert saved.audit.waits == (("user_validation", False),)
    assert _waits("user_validation", "none") == before  # not before the commit
    uow.commit()
    assert _waits("user_validation", "none") == before + 1
    again, uow = await desk.apply(env, event)
    uow.commit()
    assert again.audit is None
    assert _waits("user_validation", "none") == before + 1


async def test_a_wait_with_a_question_is_counted_as_asked() -> None:
    desk = await desk_with_ticket()
    env, event = status_changed(T0 + HOUR, 2, "waiting_on_user", "info_requested")
    asked = TicketStatusChanged.model_validate({**event.model_dump(), "note": "Which VPN client?"})
    saved, _ = await desk.apply(env, asked)
    assert saved.audit is not None
    assert saved.audit.waits == (("info_requested", True),)


# --- timers -------------------------------------------------------------------------------


async def test_a_due_timer_fires_up_to_its_horizon_and_moves_on() -> None:
    desk = await desk_with_ticket()
    [saved], uow = await desk.fire(T0 + 5 * HOUR, T0 + 5 * HOUR)
    kinds = [(t, target) for t, target, _ in published(uow)]
    assert kinds == [(EventType.SLA_WARNING, "first_response")] * 3 + [
        (EventType.SLA_BREACHED, "first_response")
    ]
    times = [env.time for _, _, env in uow.emitted]
    assert times == [T0 + 2 * HOUR, T0 + 3 * HOUR, T0 + 3.6 * HOUR, T0 + 4 * HOUR]
    assert saved.next_due == T0 + 12 * HOUR  # the resolution's first warning
    assert saved.priority == "P3"
    assert desk.stored()["next_due"] == T0 + 12 * HOUR
    assert desk.stored()["clock_states"] == ["breached", "running"]


async def test_a_timer_never_decides_past_its_horizon() -> None:
    desk = await desk_with_ticket()
    [saved], uow = await desk.fire(T0 + 5 * HOUR, T0 + 2 * HOUR + timedelta(seconds=1))
    assert [env.time for _, _, env in uow.emitted] == [T0 + 2 * HOUR]
    assert saved.next_due == T0 + 3 * HOUR


async def test_without_a_horizon_nothing_is_decided() -> None:
    desk = await desk_with_ticket()
    before = dict(desk.stored())
    [saved], uow = await desk.fire(T0 + 5 * HOUR, None)
    assert (saved.events, saved.next_due, uow.emitted) == ((), T0 + 2 * HOUR, [])
    assert desk.stored() == before


async def test_a_ticket_without_clocks_is_not_fired() -> None:
    desk = await Desk().seed()
    saved, uow = await desk.fire(T0 + 5 * HOUR, T0 + 5 * HOUR)
    assert (saved, uow.emitted) == ([], [])


# --- reading ------------------------------------------------------------------------------


async def read(
    desk: Desk, who: Principal, ticket_id: str, until: datetime | None
) -> dict[str, object]:
    return await use_cases.read_clocks(
        unit_of_work(desk.repo), desk.cache, who, ticket_id, T0 + 5 * HOUR, lambda _p: until
    )


async def test_the_clocks_read_now_show_what_the_horizon_decided_without_saving_it() -> None:
    desk = await desk_with_ticket()
    view = await read(desk, AGENT, TICKET_ID, T0 + 5 * HOUR)
    assert (view["ticket_id"], view["policy"]) == (TICKET_ID, "default-p3")
    states = {c["target"]: c["state"] for c in view["clocks"]}  # type: ignore[attr-defined]
    assert states == {"first_response": "breached", "resolution": "running"}
    assert desk.stored()["clock_states"] == ["running", "running"]  # the timer records it
    unseen = await read(desk, AGENT, TICKET_ID, None)
    assert {c["state"] for c in unseen["clocks"]} == {"running"}  # type: ignore[attr-defined]


async def test_a_requester_reads_their_own_tickets_only() -> None:
    desk = await desk_with_ticket()
    assert (await read(desk, REQUESTER, TICKET_ID, None))["ticket_id"] == TICKET_ID
    with pytest.raises(Forbidden, match="Requesters may only see their own tickets"):
        await read(desk, STRANGER, TICKET_ID, None)


@pytest.mark.parametrize("ticket_id", [str(uuid.uuid4()), "not-a-uuid"])
async def test_an_unknown_ticket_is_not_found(ticket_id: str) -> None:
    desk = await desk_with_ticket()
    with pytest.raises(NotFound, match=f"Ticket {ticket_id} does not exist"):
        await read(desk, AGENT, ticket_id, None)


def test_the_builders_snapshot_is_a_ticket() -> None:
    assert TicketSnapshot.model_validate(snapshot(1, T0)).id == TICKET_ID
