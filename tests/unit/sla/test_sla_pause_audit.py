"""The pause audit of one ticket and over many: fair pauses and parked ones told apart."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stopclock_shared.business_time import Calendar
from stopclock_sla.domain import (
    CommentAdded,
    Fact,
    Ledger,
    PauseReport,
    PolicyMatch,
    SlaPolicy,
    StatusChanged,
    Target,
    TicketAudit,
    TicketClocks,
    TicketFacts,
    WaitAudit,
    audit_ticket,
    gained,
    start_clocks,
)

MIN = 60
US = 1_000_000
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday
OFFICE = Calendar.weekly(
    "office", "Europe/Paris", {d: [("09:00", "12:00"), ("13:00", "18:00")] for d in range(5)}
)
CALENDARS = {"24x7": Calendar.always(), "office": OFFICE}
REQUESTER, AGENT_1, AGENT_2 = "req-1", "agent-1", "agent-2"


def policy(
    calendar: str = "24x7",
    pause_reasons: tuple[str, ...] | None = None,
    pause_statuses: tuple[str, ...] = ("waiting_on_user",),
) -> SlaPolicy:
    return SlaPolicy(
        name="p",
        version=1,
        match=PolicyMatch(),
        order=0,
        first_response=Target(30 * MIN, calendar),
        resolution=Target(8 * 3600, calendar, pause_reasons=pause_reasons),
        pause_statuses=pause_statuses,
    )


@dataclass
class Story:
    """A ticket's life told fact by fact, `minutes` after its opening."""

    sla: SlaPolicy
    start: datetime = T0
    facts: list[Fact] | None = None

    def __post_init__(self) -> None:
        self.facts = []

    def _at(self, minutes: float) -> datetime:
        return self.start + timedelta(minutes=minutes)

    def status(
        self,
        minutes: float,
        to: str,
        reason: str | None = None,
        *,
        by: str = AGENT_1,
        note: bool = False,
        roles: tuple[str, ...] = ("agent",),
    ) -> Story:
        assert self.facts is not None
        self.facts.append(
            StatusChanged(
                sequence=len(self.facts) + 2,
                at=self._at(minutes),
                to_status=to,
                reason=reason,
                actor_id=by,
                by_requester=by == REQUESTER,
                by_desk=by != REQUESTER and bool({"agent", "manager", "admin"} & set(roles)),
                with_note=note,
            )
        )
        return self

    def comment(self, minutes: float, *, public: bool = True, by_requester: bool = False) -> Story:
        assert self.facts is not None
        self.facts.append(
            CommentAdded(
                sequence=len(self.facts) + 2,
                at=self._at(minutes),
                public=public,
                by_requester=by_requester,
            )
        )
        return self

    def clocks(self) -> TicketClocks:
        assert self.facts is not None
        opened = TicketFacts(ticket_id="T-1", sequence=1, type="incident", priority="P3")
        state, _ = start_clocks(self.sla, CALENDARS, opened, self.start)
        for fact in self.facts:
            state, _ = state.apply(fact, CALENDARS)
        return state

    def audit(self, now_minutes: float) -> TicketAudit:
        found = audit_ticket(self.clocks(), CALENDARS, self._at(now_minutes))
        assert found is not None
        return found


def fair() -> Story:
    """A question asked in the note, the requester answers, then the agent resolves."""
    return (
        Story(policy())
        .status(10, "waiting_on_user", "info_requested", note=True)
        .status(40, "in_progress", by=REQUESTER, roles=("requester",))
        .status(60, "resolved")
    )


def parked() -> Story:
    """No note, no comment: the agent parks the ticket, then resumes it."""
    return (
        Story(policy())
        .status(5, "waiting_on_user", "user_response", by=AGENT_2)
        .status(65, "in_progress", by=AGENT_2)
        .status(90, "resolved", by=AGENT_2)
    )


def test_a_fair_pause_is_asked_and_ended_by_the_requester() -> None:
    audit = fair().audit(now_minutes=120)
    assert audit.business_us == 60 * MIN * US  # stopped at the resolution
    assert audit.paused_us == 30 * MIN * US
    assert audit.by_reason_us == {"info_requested": 30 * MIN * US}
    assert audit.waits == (WaitAudit(AGENT_1, "info_requested", True, "requester", 30 * MIN * US),)


def test_a_parked_ticket_has_no_question_and_is_resumed_by_the_agent() -> None:
    audit = parked().audit(now_minutes=120)
    assert (audit.business_us, audit.paused_us) == (90 * MIN * US, 60 * MIN * US)
    assert audit.by_reason_us == {"user_response": 60 * MIN * US}
    (wait,) = audit.waits
    assert (wait.set_by, wait.asked, wait.ended_by, wait.ended_by_desk) == (
        AGENT_2,
        False,
        "desk",
        True,
    )


@pytest.mark.parametrize(
    ("comment", "asked"),
    [
        pytest.param({"public": True}, True, id="public-agent-comment-is-the-question"),
        pytest.param({"public": False}, False, id="internal-comment-is-not"),
        pytest.param({"public": True, "by_requester": True}, False, id="requester-comment-is-not"),
    ],
)
def test_a_comment_since_the_last_status_change_may_be_the_question(
    comment: dict[str, Any], asked: bool
) -> None:
    story = Story(policy()).status(5, "in_progress").comment(8, **comment)
    story.status(10, "waiting_on_user", "info_requested")
    (wait,) = story.audit(now_minutes=30).waits
    assert wait.asked is asked


def test_a_comment_before_the_previous_status_change_is_not_the_question() -> None:
    story = Story(policy()).comment(3).status(5, "in_progress")
    story.status(10, "waiting_on_user", "info_requested")
    (wait,) = story.audit(now_minutes=30).waits
    assert wait.asked is False


def test_the_gap_between_resolution_and_reopening_is_paused_as_resolved() -> None:
    story = Story(policy()).status(5, "in_progress").status(20, "resolved")
    story.status(50, "in_progress", by=REQUESTER, roles=("requester",)).status(60, "resolved")
    audit = story.audit(now_minutes=90)
    assert (audit.business_us, audit.paused_us) == (60 * MIN * US, 30 * MIN * US)
    assert audit.by_reason_us == {"resolved": 30 * MIN * US}
    assert audit.waits == ()


def test_a_reason_the_target_does_not_pause_on_counts_a_wait_but_no_paused_time() -> None:
    story = Story(policy(pause_reasons=("info_requested",)))
    story.status(10, "waiting_on_user", "user_validation").status(40, "in_progress")
    audit = story.audit(now_minutes=60)
    assert (audit.business_us, audit.paused_us, audit.by_reason_us) == (60 * MIN * US, 0, {})
    assert [w.paused_us for w in audit.waits] == [0]


def test_an_open_wait_counts_up_to_now() -> None:
    story = Story(policy()).status(10, "waiting_on_user", "user_response", note=True)
    audit = story.audit(now_minutes=70)
    assert (audit.business_us, audit.paused_us) == (70 * MIN * US, 60 * MIN * US)
    assert audit.waits[0].ended_by is None
    assert audit.waits[0].paused_us == 60 * MIN * US


def test_on_office_hours_only_working_time_inside_the_wait_is_paused() -> None:
    # Friday 16:00 Paris (15:00 UTC); waiting from 17:30 until Monday 09:30, resolved 10:00.
    friday = datetime(2026, 3, 6, 15, tzinfo=UTC)
    story = Story(policy("office"), start=friday)
    story.status(90, "waiting_on_user", "info_requested", note=True)
    monday_0930 = (datetime(2026, 3, 9, 8, 30, tzinfo=UTC) - friday).total_seconds() / MIN
    story.status(monday_0930, "in_progress", by=REQUESTER, roles=("requester",))
    story.status(monday_0930 + 30, "resolved")
    audit = story.audit(now_minutes=monday_0930 + 600)
    assert audit.business_us == 3 * 3600 * US  # Fri 16-18, Mon 09-10
    assert audit.paused_us == 3600 * US  # Fri 17:30-18:00, Mon 09:00-09:30
    assert audit.by_reason_us == {"info_requested": 3600 * US}


def test_a_pause_running_across_two_pause_statuses_is_split_between_them() -> None:
    story = Story(policy(pause_statuses=("new", "waiting_on_user")))
    story.status(10, "waiting_on_user", "user_validation", note=True).status(25, "in_progress")
    audit = story.audit(now_minutes=40)
    assert audit.by_reason_us == {"new": 10 * MIN * US, "user_validation": 15 * MIN * US}
    assert audit.paused_us == 25 * MIN * US


def test_a_wait_ended_by_automation_is_not_ended_by_an_agent() -> None:
    story = Story(policy()).status(10, "waiting_on_user", "user_response")
    story.status(70, "resolved", by="system", roles=("service",))
    (wait,) = story.audit(now_minutes=80).waits
    assert (wait.ended_by, wait.ended_by_desk) == ("other", False)


def test_a_redelivered_fact_changes_nothing() -> None:
    story = fair()
    once = story.clocks()
    assert story.facts is not None
    again = once
    for fact in story.facts:
        again, events = again.apply(fact, CALENDARS)
        assert events == ()
    assert again == once


def test_a_row_saved_before_the_ledger_loads_with_an_empty_one_and_pauses_count_as_unknown() -> (
    None
):
    data = fair().clocks().to_dict()
    del data["ledger"]
    old = TicketClocks.from_dict(data)
    assert old.ledger == Ledger()
    audit = audit_ticket(old, CALENDARS, T0 + timedelta(hours=2))
    assert audit is not None
    assert audit.by_reason_us == {"unknown": 30 * MIN * US}
    assert audit.waits == ()


def test_a_ticket_without_a_resolution_clock_is_not_audited() -> None:
    opened = TicketFacts(ticket_id="T-2", sequence=1, type="incident", priority="P3")
    state, _ = start_clocks(None, CALENDARS, opened, T0)
    assert audit_ticket(state, CALENDARS, T0 + timedelta(hours=1)) is None


# --- over many tickets ----------------------------------------------------------------------


def test_the_report_tells_the_fair_pause_from_the_parked_one_per_agent() -> None:
    report = PauseReport()
    report.add(fair().audit(now_minutes=120))
    report.add(parked().audit(now_minutes=120))
    body = report.body()
    assert body["clocks"] == 2
    assert body["business_seconds"] == 150 * MIN
    assert body["paused_seconds"] == 90 * MIN
    assert body["paused_share"] == pytest.approx(90 / 150)
    assert body["by_reason"] == {"info_requested": 30 * MIN, "user_response": 60 * MIN}
    assert body["by_agent"] == [
        {
            "agent_id": AGENT_1,
            "pauses": 1,
            "without_question": 0,
            "ended_by_agent": 0,
            "median_pause_seconds": 30 * MIN,
        },
        {
            "agent_id": AGENT_2,
            "pauses": 1,
            "without_question": 1,
            "ended_by_agent": 1,
            "median_pause_seconds": 60 * MIN,
        },
    ]


def _waits(*paused_seconds: int, set_by: str | None = "a") -> TicketAudit:
    waits = tuple(WaitAudit(set_by, "user_response", True, None, s * US) for s in paused_seconds)
    return TicketAudit(0, 0, {}, waits)


@pytest.mark.parametrize(
    ("paused", "median"),
    [((10,), 10), ((10, 60, 20), 20), ((10, 20, 30, 60), 25)],
)
def test_the_median_pause_is_over_the_agents_waits(paused: tuple[int, ...], median: float) -> None:
    report = PauseReport()
    report.add(_waits(*paused))
    assert report.body()["by_agent"][0]["median_pause_seconds"] == median


def test_an_empty_report_has_a_zero_share() -> None:
    assert PauseReport().body() == {
        "clocks": 0,
        "business_seconds": 0.0,
        "paused_seconds": 0.0,
        "paused_share": 0.0,
        "by_reason": {},
        "by_agent": [],
    }


def test_waits_nobody_is_named_for_belong_to_no_agent() -> None:
    report = PauseReport()
    report.add(_waits(10, set_by=None))
    assert report.body()["by_agent"] == []


# --- what the metrics count ---------------------------------------------------------------


def test_counters_gain_the_growth_of_the_figures() -> None:
    before = TicketAudit(100, 40, {"info_requested": 40}, ())
    after = TicketAudit(160, 70, {"info_requested": 50, "resolved": 20}, ())
    assert gained(before, after) == (60, {"info_requested": 10, "resolved": 20})
    assert gained(None, after) == (160, {"info_requested": 50, "resolved": 20})


def test_a_decrease_after_a_retarget_is_dropped() -> None:
    before = TicketAudit(500, 100, {"user_response": 100}, ())
    after = replace(before, business_us=300, by_reason_us={"user_response": 50})
    assert gained(before, after) == (0, {})
