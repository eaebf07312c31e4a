"""Firing a ladder on the fake repository: each due step is recorded once and announced on
``escalations.events``; an auto-resolve also asks the ticket service to resolve."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from stopclock_escalation.domain.episode import EpisodeState, WaitingEpisode, answer
from stopclock_escalation.domain.ladder import ScheduleTimer
from stopclock_escalation.domain.policy import EscalationPolicy
from stopclock_escalation.repository import EpisodeRecord
from stopclock_escalation.use_cases.ladder import fire_ladder
from stopclock_shared.events.tickets import TicketSnapshot
from stopclock_shared.events.topics import ESCALATIONS_EVENTS, TICKETS_COMMANDS
from stopclock_shared.events.types import EventType
from stopclock_shared.events.vocabulary import ResolveReason

from .escalation_builders import DAY, T0, a_person, a_policy, a_ticket, an_episode
from .fakes import EscalationUow, unit_of_work

PARTITION = 3
# a_policy(): reminders at 1, 2 and 3 days, the final step a day after the last.
R1, R2, R3, FINAL = (T0 + timedelta(days=n) for n in (1, 2, 3, 4))


def waiting(
    ticket: TicketSnapshot, episode_id: str, policy: EscalationPolicy | None = None
) -> tuple[EscalationUow, WaitingEpisode]:
    uow = unit_of_work()
    episode = replace(
        an_episode(episode_id, policy=policy),
        ticket_id=ticket.id,
        requester_id=ticket.requester.id,
    )
    uow.repo.episodes[episode.id] = EpisodeRecord(episode, ticket, PARTITION, "corr-1")
    return uow, episode


EP1 = "00000000-0000-4000-8000-000000000001"
EP2 = "00000000-0000-4000-8000-000000000002"


async def test_a_due_reminder_is_recorded_announced_and_the_next_one_scheduled() -> None:
    ticket = a_ticket()
    uow, episode = waiting(ticket, EP1)
    schedule, actions = await fire_ladder(uow, episode.id, R1)
    assert schedule == ScheduleTimer(episode.id, R2, PARTITION)
    assert len(actions) == 1
    [(topic, key, envelope)] = uow.emitted
    assert (topic, key, envelope.type) == (
        ESCALATIONS_EVENTS,
        ticket.id,
        EventType.ESCALATION_REMINDER,
    )
    assert envelope.correlationid == "corr-1"
    assert envelope.time == R1
    assert envelope.data["level"] == 1
    assert envelope.data["of"] == 3
    assert envelope.data["next_step"] == "reminder"
    assert envelope.data["deadline"] == FINAL.isoformat()
    assert envelope.data["ticket"]["id"] == ticket.id
    [line] = uow.repo.register
    assert (line.kind, line.level, line.created_at) == ("reminder", 1, R1)
    assert uow.repo.episodes[episode.id].episode.reminders_sent == 1
    assert uow.repo.locked == [episode.id]


async def test_a_late_timer_takes_every_due_step_once_and_in_order() -> None:
    uow, episode = waiting(a_ticket(), EP1)
    await fire_ladder(uow, episode.id, R3 + timedelta(hours=1))
    again, actions = await fire_ladder(uow, episode.id, R3 + timedelta(hours=2))
    assert [(e.kind, e.level) for e in uow.repo.register] == [("reminder", n) for n in (1, 2, 3)]
    assert again == ScheduleTimer(episode.id, FINAL, PARTITION)
    assert actions == ()


async def test_the_final_step_for_a_calm_requester_resolves_the_ticket_for_lack_of_response() -> (
    None
):
    ticket = a_ticket(requester=a_person(locale="fr"))
    uow, episode = waiting(ticket, EP1)
    schedule, _ = await fire_ladder(uow, episode.id, FINAL)
    assert schedule is None
    assert uow.types() == [EventType.ESCALATION_REMINDER] * 3 + [
        EventType.ESCALATION_AUTO_RESOLVE,
        EventType.COMMAND_RESOLVE,
    ]
    [resolve] = uow.envelopes(EventType.COMMAND_RESOLVE)
    assert uow.emitted[-1][0] == TICKETS_COMMANDS
    assert resolve.data["reason"] == ResolveReason.NO_RESPONSE
    assert resolve.data["ticket_id"] == ticket.id
    assert "rouvert" in resolve.data["resolution"]  # in the requester's language
    [told] = uow.envelopes(EventType.ESCALATION_AUTO_RESOLVE)
    assert told.data["resolution"] == resolve.data["resolution"]
    stored = uow.repo.episodes[episode.id].episode
    assert (stored.state, stored.ended_at) == (EpisodeState.AUTO_RESOLVED, FINAL)
    assert uow.repo.register[-1].kind == "auto_resolve"


async def test_a_blocked_difficult_requester_with_a_manager_is_escalated_to_them() -> None:
    ticket = a_ticket(requester=a_person(manager=True, difficult=True), work_blocked=True)
    uow, episode = waiting(ticket, EP1)
    await fire_ladder(uow, episode.id, FINAL)
    [told] = uow.envelopes(EventType.ESCALATION_MANAGER)
    assert told.data["to_desk_manager"] is False
    assert told.data["manager"]["email"] == "boss@example.com"
    assert told.data["manager"]["timezone"] == "Europe/Paris"
    assert told.data["unanswered_episodes"] == 1
    assert told.data["desk_manager_email"] == "desk.manager@example.com"
    [last_reminder] = uow.envelopes(EventType.ESCALATION_REMINDER)[-1:]
    assert last_reminder.data["next_step"] == "manager_escalation"
    assert EventType.COMMAND_RESOLVE not in uow.types()
    assert uow.repo.episodes[episode.id].episode.state is EpisodeState.ESCALATED_TO_MANAGER


async def test_without_a_manager_on_record_the_desk_manager_is_told() -> None:
    ticket = a_ticket(requester=a_person(difficult=True), work_blocked=True)
    uow, episode = waiting(ticket, EP1)
    await fire_ladder(uow, episode.id, FINAL)
    [told] = uow.envelopes(EventType.ESCALATION_MANAGER)
    assert (told.data["to_desk_manager"], told.data["manager"]) == (True, None)
    assert "desk manager" in uow.repo.register[-1].detail


async def test_an_earlier_unanswered_episode_of_the_requester_counts_towards_the_manager_rule() -> (
    None
):
    ticket = a_ticket(requester=a_person(manager=True), work_blocked=True)
    uow, episode = waiting(ticket, EP2, policy=a_policy())
    past = replace(
        an_episode(EP1, started_at=T0 - timedelta(days=10)),
        ticket_id=a_ticket().id,
        state=EpisodeState.AUTO_RESOLVED,
        ended_at=T0 - timedelta(days=6),
    )
    uow.repo.episodes[EP1] = EpisodeRecord(past, ticket, PARTITION, None)
    await fire_ladder(uow, episode.id, FINAL)
    [told] = uow.envelopes(EventType.ESCALATION_MANAGER)
    assert told.data["unanswered_episodes"] == 2


async def test_an_ended_or_unknown_episode_fires_nothing() -> None:
    ticket = a_ticket()
    uow, episode = waiting(ticket, EP1)
    record = uow.repo.episodes[EP1]
    uow.repo.episodes[EP1] = replace(record, episode=answer(episode, T0 + timedelta(hours=1)))
    assert await fire_ladder(uow, EP1, FINAL + timedelta(days=1)) == (None, ())
    assert await fire_ladder(uow, EP2, FINAL) == (None, ())
    assert (uow.emitted, uow.repo.register) == ([], [])


async def test_steps_are_stamped_with_their_due_time_not_the_firing_time() -> None:
    uow, episode = waiting(a_ticket(), EP1, policy=a_policy(reminders=(DAY,), grace=0))
    await fire_ladder(uow, episode.id, T0 + timedelta(days=30))
    assert [e.time for _, _, e in uow.emitted] == [R1, R1, R1]
