"""Small builders shared by the escalation unit tests (plain functions, no fixtures)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from stopclock_escalation.domain.episode import EpisodeState, WaitingEpisode, start_episode
from stopclock_escalation.domain.policy import EscalationPolicy, ManagerEscalationRule, PolicyMatch
from stopclock_shared.business_time import Calendar

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
HOUR = 3600
DAY = 86_400


def a_policy(
    reminders: tuple[int, ...] = (DAY, 2 * DAY, 3 * DAY),
    grace: int = DAY,
    rule: ManagerEscalationRule | None = None,
) -> EscalationPolicy:
    return EscalationPolicy(
        name="default",
        match=PolicyMatch(),
        order=100,
        reminders=reminders,
        final_grace_seconds=grace,
        calendar="24x7",
        desk_manager_email="desk.manager@example.com",
        manager_escalation=rule or ManagerEscalationRule(),
    )


def an_episode(
    episode_id: str = "ep-1",
    started_at: datetime = T0,
    policy: EscalationPolicy | None = None,
) -> WaitingEpisode:
    return start_episode(
        episode_id=episode_id,
        ticket_id="t-1",
        requester_id="p-1",
        policy=policy or a_policy(),
        cal=Calendar.always(),
        started_at=started_at,
    )


def an_ended_episode(
    state: EpisodeState,
    started_at: datetime,
    episode_id: str = "past",
    lasted: timedelta = timedelta(hours=5),
) -> WaitingEpisode:
    ended_at = started_at + lasted
    response = lasted.total_seconds() if state is EpisodeState.ANSWERED else None
    return replace(
        an_episode(episode_id, started_at),
        state=state,
        ended_at=ended_at,
        response_seconds=response,
    )
