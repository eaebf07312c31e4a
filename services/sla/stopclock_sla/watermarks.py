"""Event-time watermarks: up to which event time every ticket fact of a partition is applied.

Timers fire on the wall clock but decide on event time (ARCHITECTURE.md, "Reliability
rules"): a warning or breach due at D is recorded only once every ticket fact of the
ticket's partition with event time <= D has been applied. A partition's *mark* is that
event-time horizon. It comes from what the consumer sees (design: docs/sla-timing.md):

* A fetch answer's high watermark covers every record the broker had when it answered, and
  the consumer sends its next fetch of a partition only after it handled the previous
  answer. So being caught up with an answer (every record below its high watermark applied,
  ignored or parked) proves every record that was in Kafka when the *previous* answer was
  handled is applied.
* While the broker is up, a fact reaches Kafka within `grace` of its event time (the ticket
  service's outbox relay lag): everything with event time <= previous answer - `grace` is
  applied. That is the mark.
* No answer for longer than `grace` while this process was listening is a gap: the broker
  stalled or down. Facts written meanwhile wait in the ticket service's outbox, and its relay
  needs time to recover, so after a gap (and on a new assignment, whose past is unknown) the
  mark moves again only once answers have flowed for `outage_grace`. A short stretch this
  process was not listening (its event loop busy) is not counted: answers handled late are
  covered by the first point. Longer than `grace` away (frozen, or a very long stall of the
  loop) counts as a gap: what the broker did meanwhile is unknown.

The mark never goes back. `Watermarks` is pure; the sampler (`sample`) feeds it what it
reads of the consumer's memory.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from aiokafka import TopicPartition

from stopclock_shared.consumer import EventConsumer

# A position lookup that would wait (a partition just reset) is not worth blocking the
# sampler for: the next sample tries again.
_POSITION_TIMEOUT = 0.05


@dataclass(slots=True)
class _Partition:
    mark: float | None = None  # epoch seconds: facts with event time <= mark are applied
    seen: float | None = None  # the latest fetch answer observed
    before: float | None = None  # the answer observed before it
    resumed: float | None = None  # the first answer after the latest gap
    silent: float = 0.0  # seconds listened to since `seen` without a new answer


class Watermarks:
    """The event-time marks of the partitions this replica owns."""

    def __init__(self, grace: float, outage_grace: float, *, tick_limit: float = 0.25) -> None:
        self.grace = grace
        self.outage_grace = outage_grace
        self.tick_limit = tick_limit
        self._parts: dict[int, _Partition] = {}
        self._ticked: float | None = None

    def own(self, partitions: Iterable[int]) -> None:
        """Own exactly `partitions`: newly owned ones start unknown (no mark yet)."""
        wanted = set(partitions)
        self._parts = {p: self._parts.get(p) or _Partition() for p in wanted}

    def drop(self, partitions: Iterable[int]) -> None:
        for p in partitions:
            self._parts.pop(p, None)

    @property
    def partitions(self) -> set[int]:
        return set(self._parts)

    def tick(self, now: float) -> None:
        """The sampler runs (epoch seconds): the time since its previous run counts as time
        listened to every partition, unless that run came late (the loop busy); away for
        longer than the grace (frozen), the next answer of every partition ends a gap."""
        elapsed = 0.0 if self._ticked is None else now - self._ticked
        self._ticked = now
        if elapsed > self.grace or elapsed < 0.0:
            listened = math.inf
        elif elapsed <= self.tick_limit:
            listened = elapsed
        else:
            return
        for state in self._parts.values():
            state.silent += listened

    def observe(self, partition: int, answered_at: float | None, caught_up: bool) -> bool:
        """Record the partition's latest fetch answer (when this process handled it, epoch
        seconds) and whether every record below its high watermark is applied. True when the
        mark moved."""
        state = self._parts.get(partition)
        if state is None or answered_at is None:
            return False
        if answered_at != state.seen:
            # A wall clock that stepped back proves nothing either.
            gap = state.seen is None or state.silent > self.grace or answered_at < state.seen
            state.silent = 0.0
            state.before = None if gap else state.seen
            state.seen = answered_at
            if gap:
                state.resumed = answered_at
        before, resumed = state.before, state.resumed
        if not caught_up or before is None or resumed is None:
            return False
        if before - resumed < self.outage_grace:
            return False  # still recovering from a gap (or a new assignment)
        candidate = before - self.grace
        if state.mark is not None and candidate <= state.mark:
            return False
        state.mark = candidate
        return True

    def mark(self, partition: int) -> datetime | None:
        """Every fact of `partition` with event time <= this is applied; None: unknown yet."""
        state = self._parts.get(partition)
        if state is None or state.mark is None:
            return None
        return datetime.fromtimestamp(state.mark, UTC)


class ConsumerView(Protocol):
    """What the sampler reads of the tickets consumer (`TicketsConsumer` in the service)."""

    async def applied_position(self, tp: TopicPartition) -> int | None: ...

    def answered(self, tp: TopicPartition) -> tuple[float, int] | None: ...


async def sample(marks: Watermarks, consumer: ConsumerView, topic: str, now: float) -> set[int]:
    """One observation of every owned partition at `now`; the partitions whose mark moved."""
    marks.tick(now)
    moved: set[int] = set()
    for partition in sorted(marks.partitions):
        tp = TopicPartition(topic, partition)
        answer = consumer.answered(tp)
        if answer is None:
            continue
        answered_at, highwater = answer
        try:
            async with asyncio.timeout(_POSITION_TIMEOUT):
                applied = await consumer.applied_position(tp)
        except TimeoutError:
            continue
        caught_up = applied is not None and applied >= highwater
        if marks.observe(partition, answered_at, caught_up):
            moved.add(partition)
    return moved


class TicketsConsumer:
    """`ConsumerView` of the service's `EventConsumer` (aiokafka's public accessors)."""

    def __init__(self, consumer: EventConsumer) -> None:
        self.consumer = consumer

    async def applied_position(self, tp: TopicPartition) -> int | None:
        return await self.consumer.applied_position(tp)

    def answered(self, tp: TopicPartition) -> tuple[float, int] | None:
        kafka = self.consumer.consumer
        if kafka is None or tp not in kafka.assignment():
            return None
        at_ms, highwater = kafka.last_poll_timestamp(tp), kafka.highwater(tp)
        if at_ms is None or highwater is None:
            return None
        return at_ms / 1000, highwater
