"""Waiting episodes from ticket events, on the fake repository: opened when the ticket
starts waiting on its requester, ended when it stops, marked away on an auto-reply."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from stopclock_escalation.domain.episode import REQUESTER_ANSWERED, WAITING, EpisodeState
from stopclock_escalation.domain.ladder import CancelTimer, ScheduleTimer
from stopclock_escalation.domain.policy import PolicyMatch
from stopclock_escalation.use_cases.episodes import (
    commented,
    requester_away,
    status_changed,
    ticket_changed,
)
from stopclock_escalation.use_cases.policies import put_policy
from stopclock_shared.events.tickets import CommentData, TicketCommented, TicketSnapshot
from stopclock_shared.events.vocabulary import NoteKind

from .escalation_builders import HOUR, T0, a_policy, a_ticket, status_change
from .fakes import EscalationUow, unit_of_work

DESK = "desk@example.com"
PARTITION = 7


async def start_waiting(uow: EscalationUow, ticket: TicketSnapshot) -> list[object]:
    changes = await status_changed(
        uow,
        status_change(ticket, "in_progress", WAITING),
        at=T0,
        partition=PARTITION,
        correlation_id="corr-1",
        desk_manager_email=DESK,
    )
    return list(changes)


async def stop_waiting(
    uow: EscalationUow, ticket: TicketSnapshot, *, reason: str | None, actor_id: str | None
) -> list[object]:
    changes = await status_changed(
        uow,
        status_change(ticket, WAITING, "in_progress", reason=reason, actor_id=actor_id),
        at=T0 + timedelta(hours=5),
        partition=PARTITION,
        correlation_id="corr-2",
        desk_manager_email=DESK,
    )
    return list(changes)


def a_comment(ticket: TicketSnapshot, note_kind: NoteKind | None) -> TicketCommented:
    comment = CommentData(
        id="c-1",
        body="I am out of the office until Monday.",
        visibility="internal",
        author_id="mail-gateway",
        author_is_requester=False,
        created_at=T0,
        note_kind=note_kind,
    )
    return TicketCommented(ticket=ticket, comment=comment)


async def test_waiting_on_the_requester_opens_an_episode_on_the_matching_policy() -> None:
    uow = unit_of_work()
    vpn = replace(
        a_policy(reminders=(HOUR, 2 * HOUR)), name="vpn", match=PolicyMatch(service="vpn")
    )
    await put_policy(uow, vpn, T0)
    ticket = a_ticket(service="vpn")
    changes = await start_waiting(uow, ticket)
    record = uow.repo.open_of(ticket.id)
    assert record is not None
    assert record.episode.policy.name == "vpn"
    assert record.episode.started_at == T0
    assert (record.partition, record.correlation_id) == (PARTITION, "corr-1")
    assert changes == [ScheduleTimer(record.episode.id, T0 + timedelta(hours=1), PARTITION)]
    assert uow.emitted == []


async def test_waiting_again_while_already_waiting_keeps_the_running_episode() -> None:
    uow = unit_of_work()
    ticket = a_ticket()
    await start_waiting(uow, ticket)
    first = uow.repo.open_of(ticket.id)
    assert await start_waiting(uow, ticket) == []
    assert uow.repo.open_of(ticket.id) == first
    assert len(uow.repo.episodes) == 1


async def test_the_requesters_answer_ends_the_episode_as_answered_and_cancels_its_timer() -> None:
    uow = unit_of_work()
    ticket = a_ticket()
    await start_waiting(uow, ticket)
    [episode_id] = uow.repo.episodes
    changes = await stop_waiting(uow, ticket, reason=REQUESTER_ANSWERED, actor_id=None)
    episode = uow.repo.episodes[episode_id].episode
    assert changes == [CancelTimer(episode_id)]
    assert episode.state is EpisodeState.ANSWERED
    assert episode.response_seconds == 5 * HOUR
    assert uow.repo.locked == [episode_id]


async def test_the_requester_moving_the_ticket_themselves_counts_as_an_answer() -> None:
    uow = unit_of_work()
    ticket = a_ticket()
    await start_waiting(uow, ticket)
    await stop_waiting(uow, ticket, reason=None, actor_id=ticket.requester.id)
    [record] = uow.repo.episodes.values()
    assert record.episode.state is EpisodeState.ANSWERED


async def test_the_desk_ending_the_wait_closes_the_episode_without_an_answer() -> None:
    uow = unit_of_work()
    ticket = a_ticket()
    await start_waiting(uow, ticket)
    changes = await stop_waiting(uow, ticket, reason="agent_resumed", actor_id="agent-1")
    [record] = uow.repo.episodes.values()
    assert record.episode.state is EpisodeState.CLOSED_BY_OTHER
    assert record.episode.response_seconds is None
    assert changes == [CancelTimer(record.episode.id)]


async def test_leaving_a_wait_never_opened_changes_nothing() -> None:
    uow = unit_of_work()
    assert await stop_waiting(uow, a_ticket(), reason=None, actor_id=None) == []
    assert uow.repo.episodes == {}


async def test_other_status_changes_only_refresh_the_snapshot() -> None:
    uow = unit_of_work()
    ticket = a_ticket()
    await start_waiting(uow, ticket)
    newer = ticket.model_copy(update={"work_blocked": True, "version": 9})
    changes = await status_changed(
        uow,
        status_change(newer, WAITING, WAITING),
        at=T0,
        partition=PARTITION,
        correlation_id=None,
        desk_manager_email=DESK,
    )
    record = uow.repo.open_of(ticket.id)
    assert changes == []
    assert record is not None
    assert record.ticket.work_blocked is True


async def test_a_ticket_event_keeps_the_newest_snapshot_and_never_an_older_one() -> None:
    uow = unit_of_work()
    ticket = a_ticket()
    await start_waiting(uow, ticket)
    await ticket_changed(uow, ticket.model_copy(update={"work_blocked": True, "version": 5}))
    await ticket_changed(uow, ticket.model_copy(update={"work_blocked": False, "version": 3}))
    record = uow.repo.open_of(ticket.id)
    assert record is not None
    assert (record.ticket.version, record.ticket.work_blocked) == (5, True)


async def test_an_auto_reply_note_marks_the_open_episode_away_once() -> None:
    uow = unit_of_work()
    ticket = a_ticket()
    await start_waiting(uow, ticket)
    at = T0 + timedelta(hours=2)
    assert await commented(uow, a_comment(ticket, NoteKind.AUTO_REPLY), at) is True
    assert await commented(uow, a_comment(ticket, NoteKind.AUTO_REPLY), at + timedelta(1)) is False
    record = uow.repo.open_of(ticket.id)
    assert record is not None
    assert record.episode.away_at == at


async def test_an_ordinary_comment_says_nothing_about_being_away() -> None:
    uow = unit_of_work()
    ticket = a_ticket()
    await start_waiting(uow, ticket)
    assert await commented(uow, a_comment(ticket, None), T0 + timedelta(hours=1)) is False
    record = uow.repo.open_of(ticket.id)
    assert record is not None
    assert record.episode.away_at is None


async def test_an_away_reply_to_a_ticket_not_waiting_marks_nothing() -> None:
    uow = unit_of_work()
    assert await requester_away(uow, a_ticket().id, T0) is False
    assert uow.repo.episodes == {}
