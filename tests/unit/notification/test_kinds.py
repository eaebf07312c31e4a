"""Kinds of mail and opt-out rules."""

import pytest

from stopclock_notification.domain.kinds import (
    ALL_KINDS,
    MANDATORY_KINDS,
    OPTIONAL_KINDS,
    MailKind,
    is_wanted,
    opt_out_problems,
)

CONTRACT_KINDS = {
    "ticket_opened",
    "info_requested",
    "reminder",
    "user_response_received",
    "resolved",
    "closed",
    "sla_warning",
    "sla_breached",
    "manager_escalation",
    "survey_invitation",
    "negative_feedback",
    "outage_notice",
    "outage_update",
    "outage_resolved",
}


def test_the_kinds_are_exactly_those_of_the_public_contract() -> None:
    assert {str(kind) for kind in ALL_KINDS} == CONTRACT_KINDS


def test_every_kind_is_either_mandatory_or_optional() -> None:
    assert MANDATORY_KINDS | OPTIONAL_KINDS == ALL_KINDS
    assert not MANDATORY_KINDS & OPTIONAL_KINDS


@pytest.mark.parametrize(
    "kind",
    [MailKind.TICKET_OPENED, MailKind.INFO_REQUESTED, MailKind.REMINDER, MailKind.RESOLVED],
)
def test_mails_that_stop_or_restart_the_requesters_clock_are_mandatory(kind: MailKind) -> None:
    assert kind in MANDATORY_KINDS


@pytest.mark.parametrize(
    ("opt_out", "problems"),
    [
        ([], {}),
        (["survey_invitation", "closed"], {}),
        (["reminder"], {"reminder": "mandatory kind: it cannot be opted out"}),
        (["newsletter"], {"newsletter": "unknown kind"}),
    ],
)
def test_an_opt_out_list_is_checked_kind_by_kind(
    opt_out: list[str], problems: dict[str, str]
) -> None:
    assert opt_out_problems(opt_out) == problems


@pytest.mark.parametrize(
    ("kind", "opt_out", "wanted"),
    [
        ("survey_invitation", ["survey_invitation"], False),
        ("survey_invitation", ["closed"], True),
        ("resolved", ["resolved"], True),
    ],
)
def test_opting_out_never_silences_a_mandatory_mail(
    kind: str, opt_out: list[str], wanted: bool
) -> None:
    assert is_wanted(kind, opt_out) is wanted
