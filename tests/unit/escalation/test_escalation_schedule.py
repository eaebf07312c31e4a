import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from stopclock_escalation.domain.schedule import final_time, reminder_times
from stopclock_shared.business_time import Calendar

from .escalation_builders import DAY, HOUR, T0, a_policy

ALWAYS = Calendar.always()


def test_reminders_count_from_the_start_of_waiting_not_from_each_other() -> None:
    policy = a_policy(reminders=(HOUR, 3 * HOUR, DAY))
    assert reminder_times(policy, ALWAYS, T0) == [
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=3),
        T0 + timedelta(days=1),
    ]


def test_the_final_step_comes_one_grace_after_the_last_reminder() -> None:
    policy = a_policy(reminders=(HOUR, DAY), grace=2 * HOUR)
    assert final_time(policy, ALWAYS, T0) == T0 + timedelta(days=1, hours=2)


def test_a_zero_grace_puts_the_final_step_at_the_last_reminder() -> None:
    policy = a_policy(reminders=(HOUR,), grace=0)
    assert final_time(policy, ALWAYS, T0) == reminder_times(policy, ALWAYS, T0)[-1]


increasing_offsets = st.lists(
    st.integers(min_value=1, max_value=60 * DAY), min_size=1, max_size=6, unique=True
).map(lambda xs: tuple(sorted(xs)))
starts = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@settings(deadline=None)
@given(offsets=increasing_offsets, grace=st.integers(0, 30 * DAY), start=starts)
def test_reminders_are_strictly_increasing_and_precede_the_final_step(
    offsets: tuple[int, ...], grace: int, start: datetime
) -> None:
    policy = a_policy(reminders=offsets, grace=grace)
    times = reminder_times(policy, ALWAYS, start)
    assert len(times) == len(offsets)
    assert all(a < b for a, b in itertools.pairwise(times))
    assert start < times[0]
    assert times[-1] <= final_time(policy, ALWAYS, start)


@settings(deadline=None)
@given(offsets=increasing_offsets, grace=st.integers(0, 30 * DAY), start=starts)
def test_on_24x7_the_schedule_is_plain_elapsed_seconds(
    offsets: tuple[int, ...], grace: int, start: datetime
) -> None:
    policy = a_policy(reminders=offsets, grace=grace)
    times = reminder_times(policy, ALWAYS, start)
    assert [(t - start).total_seconds() for t in times] == list(offsets)
    assert (final_time(policy, ALWAYS, start) - start).total_seconds() == offsets[-1] + grace


OFFICE = Calendar.weekly(
    "office-paris", "Europe/Paris", {day: [("08:00", "18:00")] for day in range(5)}
)


def test_reminders_on_office_hours_skip_the_night_and_the_weekend() -> None:
    friday_5pm = datetime(2025, 3, 7, 17, 0, tzinfo=ZoneInfo("Europe/Paris"))
    policy = a_policy(reminders=(HOUR, 10 * HOUR), grace=HOUR)
    assert reminder_times(policy, OFFICE, friday_5pm) == [
        datetime(2025, 3, 7, 18, 0, tzinfo=ZoneInfo("Europe/Paris")),
        datetime(2025, 3, 10, 17, 0, tzinfo=ZoneInfo("Europe/Paris")),
    ]
    assert final_time(policy, OFFICE, friday_5pm) == datetime(
        2025, 3, 10, 18, 0, tzinfo=ZoneInfo("Europe/Paris")
    )
