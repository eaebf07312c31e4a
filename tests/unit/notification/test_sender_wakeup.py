"""Which sender a commit wakes: one, idle if possible, in turn."""

import asyncio

from stopclock_notification.sender_wakeup import SenderWakeup


async def test_a_commit_wakes_one_sender_at_a_time_in_turn() -> None:
    wakeup = SenderWakeup()
    first, second = wakeup.new_event(), wakeup.new_event()
    wakeup.set_one()
    assert (first.is_set(), second.is_set()) == (True, False)
    wakeup.set_one()
    assert second.is_set()
    wakeup.set_one()  # both already woken: nothing more to do
    assert (first.is_set(), second.is_set()) == (True, True)


async def test_an_idle_sender_is_preferred_to_a_busy_one() -> None:
    wakeup = SenderWakeup()
    busy, idle = wakeup.new_event(), wakeup.new_event()
    waiter = asyncio.create_task(idle.wait())
    await asyncio.sleep(0)
    wakeup.set_one()
    await asyncio.wait_for(waiter, 1)
    assert idle.is_set()
    assert not busy.is_set()


async def test_a_sender_with_a_full_batch_wakes_another_not_itself() -> None:
    wakeup = SenderWakeup()
    full, other = wakeup.new_event(), wakeup.new_event()
    wakeup.set_one(skip=full)
    assert (full.is_set(), other.is_set()) == (False, True)
