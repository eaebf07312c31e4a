"""What the consumer records for an event: one pending row per wanted mail."""

from datetime import UTC, datetime

import pytest

from stopclock_notification.domain import MailKind, PlannedMail, render
from stopclock_notification.repository import NewMail
from stopclock_notification.use_cases.mails import split_by_preference
from stopclock_notification.use_cases.sending import planned_of

from . import factories as f
from .fakes import stored_of

NOW = datetime(2024, 5, 14, 9, 0, 1, tzinfo=UTC)
EVENT_TIME = datetime(2024, 5, 14, 9, 0, tzinfo=UTC)


def mail(kind: MailKind, recipient_id: str | None = "ada") -> PlannedMail:
    return PlannedMail(
        kind=kind,
        recipient_email=f"{recipient_id or 'desk'}@example.test",
        recipient_id=recipient_id,
        locale="fr",
        timezone="Europe/Paris",
        ticket_id="t-1",
        event_id="e-1",
        context={"ticket": {"number": "INC0000001"}},
    )


@pytest.mark.parametrize(
    ("kind", "opt_out", "wanted"),
    [
        (MailKind.CLOSED, ["closed"], False),
        (MailKind.CLOSED, ["survey_invitation"], True),
        (MailKind.CLOSED, [], True),
        (MailKind.TICKET_OPENED, ["ticket_opened"], True),  # mandatory beats a stale choice
        (MailKind.OUTAGE_NOTICE, ["outage_notice", "closed"], False),
    ],
)
def test_a_mail_is_refused_only_for_an_optional_kind_the_recipient_opted_out_of(
    kind: MailKind, opt_out: list[str], wanted: bool
) -> None:
    kept, refused = split_by_preference([mail(kind)], {"ada": opt_out})
    assert (kept, refused) == (([mail(kind)], []) if wanted else ([], [mail(kind)]))


def test_one_persons_choice_does_not_affect_another_recipient() -> None:
    ada, bob = mail(MailKind.OUTAGE_NOTICE, "ada"), mail(MailKind.OUTAGE_NOTICE, "bob")
    kept, refused = split_by_preference([ada, bob], {"ada": ["outage_notice"]})
    assert kept == [bob]
    assert refused == [ada]


def test_a_mail_to_a_bare_address_has_no_preferences_to_honour() -> None:
    desk = mail(MailKind.SLA_WARNING, recipient_id=None)
    kept, _ = split_by_preference([desk], {"": ["sla_warning"]})
    assert kept == [desk]


def test_a_stored_row_renders_the_same_mail_as_the_plan_it_came_from() -> None:
    [planned] = f.plan_mails(
        "stopclock.ticket.created.v1",
        f.ticket_created(),
        event_id="e-2",
        event_time=EVENT_TIME,
        survey_base_url=f.SURVEY_BASE_URL,
    )
    stored = stored_of(
        NewMail(
            planned=planned,
            subject="ignored",
            event_id=planned.event_id,
            event_type="stopclock.ticket.created.v1",
            event_time=EVENT_TIME,
            correlation_id="c",
            created_at=NOW,
        )
    )
    assert planned_of(stored) == planned
    assert render(planned_of(stored)) == render(planned)
