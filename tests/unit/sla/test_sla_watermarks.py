"""A partition's event-time mark: how far its ticket facts are known to be applied."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiokafka import TopicPartition

from stopclock_sla.watermarks import Watermarks, sample

GRACE = 0.5
OUTAGE = 5.0
TICK = 0.05  # the sampler's period
FETCH = 0.1  # an idle partition is answered this often
TOPIC = "tickets.events"
T = 1_800_000_000.0  # epoch seconds


def owned(*partitions: int) -> Watermarks:
    marks = Watermarks(GRACE, OUTAGE)
    marks.own(partitions)
    return marks


def steps(start: float, end: float, step: float) -> list[float]:
    return [round(start + i * step, 6) for i in range(round((end - start) / step) + 1)]


def listen(
    marks: Watermarks,
    start: float,
    end: float,
    *,
    answers: bool = True,
    caught_up: bool = True,
    listening: bool = True,
) -> None:
    """The sampler ticking from `start` to `end`, the broker answering (or not) meanwhile;
    a process not listening (frozen) does not tick."""
    latest: float | None = None
    for now in steps(start, end, TICK):
        if answers and round((now - start) / FETCH, 6).is_integer():
            latest = T + now
        if listening:
            marks.tick(T + now)
            marks.observe(0, latest, caught_up)


def epoch(mark: datetime | None) -> float | None:
    return None if mark is None else round(mark.timestamp() - T, 6)


def test_a_new_partition_has_no_mark_until_answers_flowed_for_the_outage_grace() -> None:
    marks = owned(0)
    listen(marks, 0, OUTAGE - 0.1)
    assert marks.mark(0) is None
    listen(marks, OUTAGE, OUTAGE + 0.1)
    # the mark is the answer before the latest one, less the grace
    assert epoch(marks.mark(0)) == OUTAGE - GRACE


def test_caught_up_answers_move_the_mark_to_the_previous_answer_less_the_grace() -> None:
    marks = owned(0)
    listen(marks, 0, 10)
    assert epoch(marks.mark(0)) == 9.9 - GRACE


def test_an_answer_with_records_still_being_applied_does_not_move_the_mark() -> None:
    marks = owned(0)
    listen(marks, 0, 10)
    listen(marks, 10.05, 11, caught_up=False)
    assert epoch(marks.mark(0)) == 9.9 - GRACE
    # the same answer, once its records are applied
    assert marks.observe(0, T + 11, caught_up=True)
    assert epoch(marks.mark(0)) == 10.95 - GRACE


@pytest.mark.parametrize(
    ("silence", "is_gap"),
    [
        (0.3, False),  # a slow answer
        (GRACE - 0.05, False),
        (GRACE + 0.2, True),  # the broker stalled
        (20.0, True),
    ],
)
def test_no_answer_for_longer_than_the_grace_is_a_gap_that_waits_the_outage_grace(
    silence: float, is_gap: bool
) -> None:
    marks = owned(0)
    listen(marks, 0, 10)
    back = 10 + silence  # the next answer
    listen(marks, 10.05, back - 0.05, answers=False)
    listen(marks, back, back + 2)
    expected = 9.9 - GRACE if is_gap else round(back + 1.9 - GRACE, 6)
    assert epoch(marks.mark(0)) == expected
    listen(marks, back + 2.05, back + OUTAGE + 0.2)
    assert epoch(marks.mark(0)) == round(back + OUTAGE + 0.05 - GRACE, 6)


def test_a_loop_busy_for_less_than_the_grace_is_not_a_gap() -> None:
    """The answer handled after the stall of the loop may be as old as the stall: it proves
    only what the answer before it proved."""
    marks = owned(0)
    listen(marks, 0, 10)
    marks.tick(T + 10.4)  # the sampler's first run after a 0.4 s stall of the event loop
    marks.observe(0, T + 10.4, caught_up=True)
    assert epoch(marks.mark(0)) == 10 - GRACE  # the answer before it, at +10 s
    listen(marks, 10.45, 10.55)
    assert epoch(marks.mark(0)) == round(10.45 - GRACE, 6)


def test_a_process_frozen_for_longer_than_the_grace_waits_the_outage_grace_on_thaw() -> None:
    marks = owned(0)
    listen(marks, 0, 10)
    listen(marks, 10.05, 30, listening=False)
    listen(marks, 30.05, 30.05 + OUTAGE - 0.1)
    assert epoch(marks.mark(0)) == 9.9 - GRACE
    listen(marks, 30.05 + OUTAGE, 30.05 + OUTAGE + 0.1)
    assert epoch(marks.mark(0)) == round(30.05 + OUTAGE - GRACE, 6)


def test_the_mark_never_goes_back() -> None:
    marks = owned(0)
    listen(marks, 0, 10)
    before = marks.mark(0)
    for now in steps(2, 4, TICK):  # the wall clock stepped back
        marks.tick(T + now)
        marks.observe(0, T + now, caught_up=True)
    assert marks.mark(0) == before


def test_partitions_given_away_and_taken_back_start_over() -> None:
    marks = owned(0, 1)
    listen(marks, 0, 10)
    marks.own({1, 2})
    assert marks.partitions == {1, 2}
    marks.own({0, 1})
    assert marks.mark(0) is None
    marks.drop({1})
    assert marks.partitions == {0}
    assert not marks.observe(1, T + 11, caught_up=True)


class FakeConsumer:
    """The tickets consumer as the sampler sees it: last answer and applied position."""

    def __init__(self) -> None:
        self.answers: dict[int, tuple[float, int]] = {}
        self.applied: dict[int, int | None] = {}

    async def applied_position(self, tp: TopicPartition) -> int | None:
        return self.applied.get(tp.partition)

    def answered(self, tp: TopicPartition) -> tuple[float, int] | None:
        return self.answers.get(tp.partition)


async def test_a_sample_moves_only_partitions_applied_up_to_their_high_watermark() -> None:
    marks = owned(0, 1, 2)
    consumer = FakeConsumer()
    moved: set[int] = set()
    for now in steps(0, 6, FETCH):
        consumer.answers = {0: (T + now, 40), 1: (T + now, 7), 2: (T + now, 3)}
        consumer.applied = {0: 40, 1: 6, 2: None}  # 1 lags one record; 2 unknown
        moved |= await sample(marks, consumer, TOPIC, T + now)
    assert moved == {0}
    assert epoch(marks.mark(0)) == 5.9 - GRACE
    assert marks.mark(1) is None
    assert marks.mark(2) is None


def test_a_mark_is_an_aware_utc_instant() -> None:
    marks = owned(0)
    listen(marks, 0, 10)
    mark = marks.mark(0)
    assert mark is not None
    assert mark.tzinfo is UTC
