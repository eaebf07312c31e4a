from dataclasses import replace

import pytest

from stopclock_escalation.domain.policy import (
    EscalationPolicy,
    ManagerEscalationRule,
    PolicyMatch,
    match_policy,
    validate_policy,
)
from stopclock_shared.errors import FieldError

KNOWN_CALENDARS = frozenset({"office-paris"})


def a_policy(**changes: object) -> EscalationPolicy:
    policy = EscalationPolicy(
        name="default",
        match=PolicyMatch(),
        order=100,
        reminders=(86_400, 172_800, 259_200),
        final_grace_seconds=86_400,
        calendar="office-paris",
        desk_manager_email="desk.manager@example.com",
    )
    return replace(policy, **changes)  # type: ignore[arg-type]


def test_a_sensible_policy_has_no_errors() -> None:
    assert validate_policy(a_policy(), KNOWN_CALENDARS) == ()


def test_the_24x7_calendar_is_always_known() -> None:
    assert validate_policy(a_policy(calendar="24x7"), frozenset()) == ()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"reminders": ()}, FieldError("reminders", "at least one reminder is required")),
        (
            {"reminders": (60, -5)},
            FieldError("reminders.1", "must be a positive number of seconds"),
        ),
        ({"reminders": (0, 60)}, FieldError("reminders.0", "must be a positive number of seconds")),
        ({"reminders": (60, 60)}, FieldError("reminders.1", "duplicates reminders.0")),
        (
            {"reminders": (120, 60)},
            FieldError("reminders.1", "reminders must be in increasing order"),
        ),
        ({"final_grace_seconds": -1}, FieldError("final_grace_seconds", "must be zero or more")),
        ({"calendar": "mars-base"}, FieldError("calendar", "unknown calendar 'mars-base'")),
        (
            {"desk_manager_email": "desk"},
            FieldError("desk_manager_email", "must be an email address"),
        ),
        (
            {"desk_manager_email": "a b@x.io"},
            FieldError("desk_manager_email", "must be an email address"),
        ),
        (
            {"desk_manager_email": "a@localhost"},
            FieldError("desk_manager_email", "must be an email address"),
        ),
        ({"desk_manager_email": ""}, FieldError("desk_manager_email", "must be an email address")),
        ({"name": "  "}, FieldError("name", "must not be empty")),
        (
            {"match": PolicyMatch(priority="P9")},
            FieldError("match.priority", "must be one of P1, P2, P3, P4"),
        ),
        (
            {"match": PolicyMatch(type="problem")},
            FieldError("match.type", "must be one of incident, service_request"),
        ),
        (
            {"manager_escalation": ManagerEscalationRule(min_unresponsive_episodes=0)},
            FieldError("manager_escalation.min_unresponsive_episodes", "must be at least 1"),
        ),
        (
            {"manager_escalation": ManagerEscalationRule(window_days=0)},
            FieldError("manager_escalation.window_days", "must be at least 1"),
        ),
    ],
)
def test_validation_names_the_faulty_field(
    changes: dict[str, object], expected: FieldError
) -> None:
    assert validate_policy(a_policy(**changes), KNOWN_CALENDARS) == (expected,)


def test_validation_reports_every_problem_at_once() -> None:
    policy = a_policy(reminders=(10, 5, 5), final_grace_seconds=-1, calendar="nowhere")
    fields = [e.field for e in validate_policy(policy, KNOWN_CALENDARS)]
    assert fields == ["reminders.1", "reminders.2", "final_grace_seconds", "calendar"]


def test_a_policy_without_match_fields_matches_every_ticket() -> None:
    assert a_policy().matches("incident", None, None)


@pytest.mark.parametrize(
    ("match", "ticket", "matches"),
    [
        (PolicyMatch(type="incident"), ("incident", "P1", "mail"), True),
        (PolicyMatch(type="incident"), ("service_request", "P1", "mail"), False),
        (PolicyMatch(priority="P1", service="mail"), ("incident", "P1", "mail"), True),
        (PolicyMatch(priority="P1", service="mail"), ("incident", "P1", "vpn"), False),
        (PolicyMatch(service="mail"), ("incident", "P2", None), False),
        (PolicyMatch(priority="P3"), ("incident", None, None), False),
    ],
)
def test_a_policy_matches_when_every_given_field_is_equal(
    match: PolicyMatch, ticket: tuple[str, str | None, str | None], matches: bool
) -> None:
    assert a_policy(match=match).matches(*ticket) is matches


def test_the_lowest_order_wins_among_matching_policies() -> None:
    broad = a_policy(name="broad", order=100)
    mail = a_policy(name="mail", order=10, match=PolicyMatch(service="mail"))
    vpn = a_policy(name="vpn", order=1, match=PolicyMatch(service="vpn"))
    assert match_policy([broad, vpn, mail], "incident", "P2", "mail") == mail


def test_equal_orders_are_broken_by_name_whatever_the_input_order() -> None:
    zeta = a_policy(name="zeta", order=5)
    alpha = a_policy(name="alpha", order=5)
    assert match_policy([zeta, alpha], "incident", "P2", None) == alpha
    assert match_policy([alpha, zeta], "incident", "P2", None) == alpha


def test_no_policy_is_chosen_when_none_matches() -> None:
    only_vpn = a_policy(match=PolicyMatch(service="vpn"))
    assert match_policy([only_vpn], "incident", "P2", "mail") is None
