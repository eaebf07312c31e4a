"""Clock results do not depend on time zones or DST: Paris and New York calendars with
holiday sets, across the 2026 transitions, and event times written in any offset."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stopclock_shared.business_time import Calendar, format_day_time
from stopclock_sla.domain import (
    PolicyMatch,
    SlaPolicy,
    StatusChanged,
    Target,
    TicketFacts,
    remaining_seconds,
    start_clocks,
)
from stopclock_sla.domain.clock import new_clock, pause, resume

PROPS = settings(deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])
ZONES = ["Europe/Paris", "America/New_York"]
# The 2026 DST transitions of both zones
ANCHORS = [
    datetime(2026, 3, 8, 5, tzinfo=UTC),
    datetime(2026, 3, 29, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 0, tzinfo=UTC),
    datetime(2026, 11, 1, 5, tzinfo=UTC),
]
SPAN = 4 * 86_400 * 10**6


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    zone = draw(st.sampled_from(ZONES))
    opens = draw(st.integers(0, 20)) * 1800
    closes = opens + draw(st.integers(2, 20)) * 1800
    window = (format_day_time(opens), format_day_time(closes))
    first = date(2026, 2, 20)
    holidays = draw(
        st.frozensets(st.integers(0, 280).map(lambda n: first + timedelta(days=n)), max_size=30)
    )
    windows = {weekday: [window] for weekday in range(5)}
    return Calendar.weekly("desk", zone, windows, holidays)


instants = st.builds(
    lambda anchor, us: anchor + timedelta(microseconds=us),
    st.sampled_from(ANCHORS),
    st.integers(-SPAN, SPAN),
)
gaps = st.integers(0, 3 * 86_400 * 10**6).map(lambda us: timedelta(microseconds=us))


@PROPS
@given(calendars(), instants, gaps, gaps, st.integers(3600, 40 * 3600))
def test_a_pause_across_dst_and_holidays_never_changes_remaining_business_time(
    cal: Calendar, started: datetime, before: timedelta, paused_for: timedelta, seconds: int
) -> None:
    policy = SlaPolicy("p", 1, PolicyMatch(), 0, Target(seconds, "desk"))
    clock = new_clock("T", policy, "resolution", started)
    paused_at = started + before
    left = remaining_seconds(clock, cal, paused_at)
    clock, _ = pause(clock, cal, paused_at)
    assert remaining_seconds(clock, cal, paused_at + paused_for) == left
    clock, _ = resume(clock, cal, paused_at + paused_for)
    assert remaining_seconds(clock, cal, paused_at + paused_for) == left


@PROPS
@given(calendars(), instants, gaps, gaps, st.sampled_from(ZONES))
def test_event_times_written_in_any_zone_give_the_same_clocks(
    cal: Calendar, started: datetime, waited: timedelta, answered: timedelta, zone: str
) -> None:
    policy = SlaPolicy(
        "p",
        1,
        PolicyMatch(),
        0,
        resolution=Target(12 * 3600, "desk"),
        first_response=Target(3 * 3600, "desk"),
    )
    calendars = {"desk": cal}

    def run(local: ZoneInfo | None) -> dict[str, object]:
        def t(moment: datetime) -> datetime:
            return moment if local is None else moment.astimezone(local)

        facts = TicketFacts(ticket_id="T", sequence=1, type="incident", priority="P2")
        state, _ = start_clocks(policy, calendars, facts, t(started))
        for seq, (at, to, reason) in enumerate(
            [
                (started + waited, "waiting_on_user", "info_requested"),
                (started + waited + answered, "in_progress", None),
            ],
            start=2,
        ):
            state, _ = state.apply(
                StatusChanged(sequence=seq, at=t(at), to_status=to, reason=reason), calendars
            )
        read_at = started + waited + answered + timedelta(days=2)
        state, _ = state.fire(calendars, t(read_at))
        view = state.view(calendars, t(read_at))
        return {
            c["target"]: (
                c["state"],
                datetime.fromisoformat(c["due_at"]),
                c["elapsed_seconds"],
                c["paused_seconds"],
                c["remaining_seconds"],
            )
            for c in view["clocks"]
        }

    assert run(ZoneInfo(zone)) == run(None)
