"""What the desk reads, on the fake repository: a person's register and the escalations."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from stopclock_escalation.domain.episode import EpisodeState
from stopclock_escalation.domain.escalations import EscalationKind
from stopclock_escalation.repository import EpisodeRecord, EscalationQuery, NewEscalation
from stopclock_escalation.use_cases.reports import list_escalations, person_responsiveness

from .escalation_builders import T0, a_ticket, an_episode
from .fakes import unit_of_work


async def test_the_register_counts_the_episodes_of_the_window_only() -> None:
    uow = unit_of_work()
    now = T0 + timedelta(days=100)
    for episode_id, started, state in [
        ("old", T0, EpisodeState.AUTO_RESOLVED),
        ("recent", now - timedelta(days=10), EpisodeState.AUTO_RESOLVED),
        ("open", now - timedelta(days=1), EpisodeState.OPEN),
    ]:
        episode = replace(an_episode(episode_id, started_at=started), state=state)
        if state is not EpisodeState.OPEN:
            episode = replace(episode, ended_at=started + timedelta(days=4))
        uow.repo.episodes[episode_id] = EpisodeRecord(episode, a_ticket(), 0, None)
    figures = await person_responsiveness(uow, "p-1", now, window_days=90, min_unanswered=1)
    assert (figures.waiting_episodes, figures.unanswered_episodes, figures.open) == (2, 1, 1)
    assert figures.frequently_unresponsive is True
    nobody = await person_responsiveness(uow, "p-2", now, window_days=90, min_unanswered=1)
    assert nobody.waiting_episodes == 0


async def test_escalations_are_listed_oldest_first_by_ticket_and_kind_in_pages() -> None:
    uow = unit_of_work()
    mine, other = str(uuid.uuid4()), str(uuid.uuid4())
    for minutes, ticket_id, kind in [
        (2, mine, EscalationKind.SLA_BREACH),
        (1, mine, EscalationKind.SLA_WARNING),
        (1, other, EscalationKind.SLA_WARNING),
        (3, mine, EscalationKind.NEGATIVE_FEEDBACK),
    ]:
        at = T0 + timedelta(minutes=minutes)
        await uow.repo.insert_escalation(NewEscalation(ticket_id, kind, 1, "-", at))
    page = await list_escalations(uow, EscalationQuery(uuid.UUID(mine), None, 2, None))
    assert [e.kind for e in page] == ["sla_warning", "sla_breach", "negative_feedback"]
    after = (page[1].created_at, page[1].seq)
    rest = await list_escalations(uow, EscalationQuery(uuid.UUID(mine), None, 2, after))
    assert [e.kind for e in rest] == ["negative_feedback"]
    wanted = EscalationQuery(None, EscalationKind.SLA_WARNING, 50, None)
    warnings = await list_escalations(uow, wanted)
    assert {str(e.ticket_id) for e in warnings} == {mine, other}
