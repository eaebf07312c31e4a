"""Deterministic Message-IDs."""

import re

from stopclock_notification.domain.message_id import message_id_for

# RFC 5322 msg-id: "<" id-left "@" id-right ">", both dot-atoms.
MSG_ID = re.compile(r"^<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+>$")


def test_the_same_mail_always_gets_the_same_message_id() -> None:
    first = message_id_for("evt-1", "reminder", "ada@example.test")

    assert message_id_for("evt-1", "reminder", "ada@example.test") == first


def test_the_message_id_is_well_formed_and_in_the_chosen_domain() -> None:
    message_id = message_id_for("evt-1", "reminder", "ada@example.test", domain="desk.test")

    assert MSG_ID.match(message_id)
    assert message_id.endswith("@desk.test>")


def test_each_recipient_kind_and_event_gets_its_own_message_id() -> None:
    ids = {
        message_id_for("evt-1", "sla_breached", "grace@example.test"),
        message_id_for("evt-1", "sla_breached", "desk@example.test"),
        message_id_for("evt-1", "sla_warning", "grace@example.test"),
        message_id_for("evt-2", "sla_breached", "grace@example.test"),
    }

    assert len(ids) == 4


def test_the_address_case_does_not_change_the_message_id() -> None:
    assert message_id_for("e", "closed", "Ada@Example.test ") == message_id_for(
        "e", "closed", "ada@example.test"
    )
