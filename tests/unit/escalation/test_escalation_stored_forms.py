import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stopclock_escalation.domain.episode import EpisodeState
from stopclock_escalation.domain.policy import (
    EscalationPolicy,
    ManagerEscalationRule,
    PolicyMatch,
    policy_from_spec,
    policy_to_spec,
)
from stopclock_escalation.events import manager_ref
from stopclock_escalation.repository import episode_from_row, stored_policy
from stopclock_shared.events.people import PersonRef

policies = st.builds(
    EscalationPolicy,
    name=st.text(min_size=1, max_size=20),
    match=st.builds(
        PolicyMatch,
        type=st.sampled_from([None, "incident", "service_request"]),
        priority=st.sampled_from([None, "P1", "P2", "P3", "P4"]),
        service=st.one_of(st.none(), st.text(min_size=1, max_size=10)),
    ),
    order=st.integers(-1000, 1000),
    reminders=st.lists(st.integers(1, 10**7), min_size=1, max_size=5, unique=True).map(
        lambda xs: tuple(sorted(xs))
    ),
    final_grace_seconds=st.integers(0, 10**7),
    calendar=st.sampled_from(["24x7", "paris-office"]),
    desk_manager_email=st.just("desk@example.com"),
    manager_escalation=st.builds(
        ManagerEscalationRule,
        requires_work_blocked=st.booleans(),
        min_unresponsive_episodes=st.integers(1, 10),
        window_days=st.integers(1, 365),
    ),
)


@settings(deadline=None)
@given(policies)
def test_a_stored_policy_reads_back_as_the_same_policy(policy: EscalationPolicy) -> None:
    assert policy_from_spec(policy.name, policy_to_spec(policy)) == policy


def test_an_episode_row_becomes_the_episode_it_describes() -> None:
    started = datetime(2026, 3, 2, 9, tzinfo=UTC)
    policy = EscalationPolicy(
        name="vpn",
        match=PolicyMatch(service="vpn"),
        order=1,
        reminders=(60, 120),
        final_grace_seconds=30,
        calendar="24x7",
        desk_manager_email="desk@example.com",
    )
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "ticket_id": uuid.uuid4(),
        "requester_id": "p-1",
        "policy": stored_policy(policy),
        "started_at": started,
        "reminders_at": [started + timedelta(seconds=60), started + timedelta(seconds=120)],
        "final_at": started + timedelta(seconds=150),
        "reminders_sent": 1,
        "state": "open",
        "ended_at": None,
        "response_seconds": None,
        "away_at": started + timedelta(seconds=90),
    }
    episode = episode_from_row(row)  # type: ignore[arg-type]
    assert episode.policy == policy
    assert (episode.id, episode.ticket_id) == (str(row["id"]), str(row["ticket_id"]))
    assert episode.reminder_count == 2
    assert episode.reminders_sent == 1
    assert episode.state is EpisodeState.OPEN
    assert episode.away_at == started + timedelta(seconds=90)


def test_the_manager_is_known_by_address_and_reads_in_the_requesters_language() -> None:
    requester = PersonRef(
        id="p-1",
        name="Paul",
        email="paul@example.com",
        timezone="Europe/Paris",
        locale="fr",
        manager_id="m-1",
        manager_email="boss@example.com",
        manager_name="Marie Boss",
    )
    ref = manager_ref(requester)
    assert ref is not None
    assert (ref.id, ref.email, ref.name) == ("m-1", "boss@example.com", "Marie Boss")
    assert (ref.timezone, ref.locale) == ("Europe/Paris", "fr")
    assert ref.manager_email is None


def test_a_requester_without_a_manager_address_has_no_manager_to_tell() -> None:
    requester = PersonRef(id="p-1", name="Paul", email="paul@example.com", manager_id="m-1")
    assert manager_ref(requester) is None
