"""Ticket events read as SLA facts: event time, ticket version, what counts as a response."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sla_edge_builders import commented, created, priority_changed, status_changed

from stopclock_sla.domain import PolicyMatch, SlaPolicy, Target
from stopclock_sla.facts_from_events import (
    adopted_facts,
    comment_fact,
    created_facts,
    priority_fact,
    status_fact,
)

T0 = datetime(2026, 3, 27, 9, tzinfo=UTC)


def test_a_created_ticket_gives_what_matching_and_the_first_pause_need() -> None:
    env, data = created(T0, priority="P1", service="mail", status="new")
    facts = created_facts(env, data.ticket)
    assert (facts.ticket_id, facts.sequence) == (data.ticket.id, 1)
    assert (facts.type, facts.priority, facts.service, facts.status) == (
        "incident",
        "P1",
        "mail",
        "new",
    )


def test_a_status_change_happens_at_the_event_time_with_the_ticket_version() -> None:
    env, data = status_changed(T0 + timedelta(minutes=5), 4, "waiting_on_user", "user_validation")
    fact = status_fact(env, data)
    assert (fact.sequence, fact.at, fact.to_status) == (4, env.time, "waiting_on_user")
    assert fact.reason == "user_validation"


def test_a_reason_counts_only_when_entering_waiting_on_user() -> None:
    env, data = status_changed(T0, 5, "in_progress", "requester_answered")
    assert status_fact(env, data).reason is None


def test_without_an_envelope_sequence_the_snapshot_version_is_used() -> None:
    env, data = status_changed(T0, 7, "assigned", sequence=False)
    assert env.sequence is None
    assert status_fact(env, data).sequence == 7


@pytest.mark.parametrize(("public", "by_requester"), [(True, False), (True, True), (False, False)])
def test_a_comment_says_whether_it_was_public_and_by_the_requester(
    public: bool, by_requester: bool
) -> None:
    env, data = commented(T0, 3, public=public, by_requester=by_requester)
    fact = comment_fact(env, data)
    assert (fact.public, fact.by_requester, fact.sequence) == (public, by_requester, 3)


def test_a_priority_change_carries_the_policy_the_edge_matched() -> None:
    policy = SlaPolicy("p1", 2, PolicyMatch(priority="P1"), 0, Target(3600, "24x7@1"))
    env, data = priority_changed(T0, 6, "P1")
    fact = priority_fact(env, data.ticket, data.to_priority, policy)
    assert (fact.priority, fact.policy, fact.sequence, fact.at) == ("P1", policy, 6, T0)


def test_an_adopted_ticket_starts_new_at_sequence_zero_so_every_real_fact_applies() -> None:
    _, data = status_changed(T0, 9, "in_progress")
    facts = adopted_facts(data.ticket)
    assert (facts.sequence, facts.status, facts.waiting_reason) == (0, "new", None)
