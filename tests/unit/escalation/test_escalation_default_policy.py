from stopclock_escalation.domain.default_policy import (
    BUILTIN_GRACE_SECONDS,
    BUILTIN_NAME,
    BUILTIN_REMINDERS,
    builtin_policy,
)
from stopclock_escalation.domain.policy import (
    EscalationPolicy,
    PolicyMatch,
    match_policy,
    validate_policy,
)

DESK = "desk@example.com"


def test_the_builtin_policy_passes_the_validation_stored_policies_pass() -> None:
    assert validate_policy(builtin_policy(DESK), known_calendars=()) == ()


def test_the_builtin_policy_reminds_twice_then_gives_a_day_of_grace() -> None:
    policy = builtin_policy(DESK)
    assert policy.reminders == BUILTIN_REMINDERS == (86_400, 259_200)
    assert policy.final_grace_seconds == BUILTIN_GRACE_SECONDS == 86_400
    assert (policy.name, policy.calendar, policy.desk_manager_email) == (BUILTIN_NAME, "24x7", DESK)


def test_the_builtin_policy_matches_any_ticket() -> None:
    policy = builtin_policy(DESK)
    assert policy.matches("incident", "P1", "vpn")
    assert policy.matches("service_request", None, None)


def test_any_stored_policy_that_matches_wins_over_the_builtin_one() -> None:
    stored = EscalationPolicy(
        name="vpn",
        match=PolicyMatch(service="vpn"),
        order=2**31 - 2,
        reminders=(60,),
        final_grace_seconds=60,
        calendar="24x7",
        desk_manager_email=DESK,
    )
    policies = [builtin_policy(DESK), stored]
    assert match_policy(policies, "incident", "P3", "vpn") is stored
    assert match_policy(policies, "incident", "P3", "mail") == builtin_policy(DESK)
