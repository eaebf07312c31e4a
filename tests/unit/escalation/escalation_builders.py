"""Small builders shared by the escalation unit tests (plain functions, no fixtures)."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from stopclock_escalation.domain.episode import EpisodeState, WaitingEpisode, start_episode
from stopclock_escalation.domain.policy import EscalationPolicy, ManagerEscalationRule, PolicyMatch
from stopclock_shared.business_time import Calendar
from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.people import PersonRef
from stopclock_shared.events.tickets import TicketSnapshot, TicketStatusChanged

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


def a_person(
    person_id: str = "p-1",
    *,
    manager: bool = False,
    difficult: bool = False,
    locale: str = "en",
) -> PersonRef:
    return PersonRef(
        id=person_id,
        name=f"Person {person_id}",
        email=f"{person_id}@example.com",
        timezone="Europe/Paris",
        locale=locale,
        difficult=difficult,
        manager_id="boss-1" if manager else None,
        manager_email="boss@example.com" if manager else None,
        manager_name="Bea Boss" if manager else None,
    )


def a_ticket(
    ticket_id: str | None = None,
    *,
    requester: PersonRef | None = None,
    service: str | None = None,
    work_blocked: bool = False,
    status: str = "in_progress",
    version: int = 1,
) -> TicketSnapshot:
    return TicketSnapshot(
        id=ticket_id or str(uuid.uuid4()),
        number="INC0000001",
        type="incident",
        title="VPN down",
        description="Since this morning.",
        status=status,
        waiting_reason=None,
        priority="P3",
        impact="medium",
        urgency="medium",
        requester=requester or a_person(),
        assignee_id=None,
        group=None,
        service=service,
        category=None,
        work_blocked=work_blocked,
        created_at=T0,
        updated_at=T0,
        resolved_at=None,
        closed_at=None,
        resolution=None,
        version=version,
    )


def status_change(
    ticket: TicketSnapshot,
    from_status: str,
    to_status: str,
    *,
    reason: str | None = None,
    actor_id: str | None = None,
) -> TicketStatusChanged:
    moved = ticket.model_copy(update={"status": to_status, "version": ticket.version + 1})
    return TicketStatusChanged(
        ticket=moved,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        actor_id=actor_id,
    )


def an_envelope(type_: str, ticket_id: str, at: datetime = T0) -> Envelope:
    """The envelope of an event that caused a use case (its time and ids are used)."""
    return new_envelope(type_, source="stopclock/tests", subject=ticket_id, time=at, data={})
