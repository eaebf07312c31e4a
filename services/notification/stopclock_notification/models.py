"""Tables of the notification service (its own database)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from stopclock_shared.db import (
    IDENTIFIER,
    LANGUAGE_TAG,
    MAIL_ADDRESS,
    service_metadata,
    timestamp_column,
)

metadata, outbox, processed_events, idempotency_keys = service_metadata()

# `bounced`: sent, then a delivery status notification (DSN) came back for it.
STATUSES = ("pending", "sent", "failed", "dead", "bounced")
# Rows a sender may still claim; the partial index below holds exactly these.
SENDABLE = ("pending", "failed")

# The outgoing mail log: one row per (event, kind, recipient), written `pending` by the
# consumer before anything is sent and updated by the sender after each attempt.
notifications = Table(
    "notifications",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    # event_id:kind:recipient (PlannedMail.dedupe_key): a redelivered event inserts nothing.
    Column("dedupe_key", Text, nullable=False, unique=True),
    Column("event_id", IDENTIFIER, nullable=False),
    Column("event_type", IDENTIFIER, nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("correlation_id", IDENTIFIER),
    # Text, not uuid: outage mails have none, and the log must accept any id an event carries.
    Column("ticket_id", IDENTIFIER),
    Column("kind", String(40), nullable=False),
    Column("recipient", MAIL_ADDRESS, nullable=False),
    Column("recipient_id", IDENTIFIER),
    Column("locale", LANGUAGE_TAG, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("context", JSONB, nullable=False),
    Column("subject", Text, nullable=False),
    Column("message_id", String(300)),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    # When a sender may (re)try; while a sender holds a row it is the end of its lease.
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    timestamp_column("created_at"),
    timestamp_column("sent_at", nullable=True),
    CheckConstraint(
        "status IN ('pending', 'sent', 'failed', 'dead', 'bounced')", name="status_known"
    ),
)
Index(
    "ix_notifications_due",
    notifications.c.next_attempt_at,
    postgresql_where=notifications.c.status.in_(SENDABLE),
)
Index("ix_notifications_ticket", notifications.c.ticket_id, notifications.c.created_at)
Index("ix_notifications_recipient", func.lower(notifications.c.recipient))
Index("ix_notifications_recipient_id", notifications.c.recipient_id, notifications.c.created_at)
Index("ix_notifications_created", notifications.c.created_at, notifications.c.id)
# Threading a reply by In-Reply-To/References, and bounces, look mails up by Message-ID.
Index("ix_notifications_message_id", notifications.c.message_id)

# Kinds of mail a person refused (optional kinds only; API.md "Notification service").
preferences = Table(
    "preferences",
    metadata,
    Column("person_id", IDENTIFIER, primary_key=True),
    Column("opt_out", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    timestamp_column("updated_at"),
)


# Replica of the tickets the inbound mail threads to, from every tickets.events message
# (event-carried state; the newest version wins).
ticket_refs = Table(
    "ticket_refs",
    metadata,
    Column("ticket_id", IDENTIFIER, primary_key=True),
    Column("number", String(40), nullable=False),
    Column("status", String(40), nullable=False),
    Column("waiting_reason", String(40)),
    Column("version", Integer, nullable=False),
    # Who may answer it by mail, and in which language we answer them.
    Column("requester_id", IDENTIFIER, nullable=False),
    Column("requester_email", MAIL_ADDRESS, nullable=False),
    Column("requester_locale", LANGUAGE_TAG, nullable=False),
)
Index("ix_ticket_refs_number", ticket_refs.c.number)

# Replica of the people directory (people.events): who may open a ticket by mail.
people = Table(
    "people",
    metadata,
    Column("person_id", IDENTIFIER, primary_key=True),
    Column("email", MAIL_ADDRESS, nullable=False),
    Column("name", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_people_email", func.lower(people.c.email))

OUTCOMES = ("comment", "internal_comment", "new_ticket", "auto_reply", "bounce", "rejected")

# Every mail taken in (SMTP or IMAP), recorded in the transaction that writes the commands it
# causes: the log of GET /api/v1/inbound and the guard that a mail acts once.
inbound_mails = Table(
    "inbound_mails",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # The Message-ID header, or "sha256:<hex>" of the raw bytes when the mail has none.
    Column("message_id", String(998), nullable=False),
    Column("sender", MAIL_ADDRESS, nullable=False),
    Column("subject", Text, nullable=False),
    Column("ticket_id", IDENTIFIER),
    Column("outcome", String(20), nullable=False),
    Column("detail", Text, nullable=False),
    Column("raw_size", Integer, nullable=False),
    # Kept for diagnosis when small enough (settings.inbound_keep_raw_bytes).
    Column("raw", LargeBinary),
    # True when we refused it with a temporary SMTP error (rate limit): the client keeps
    # the mail and retries, so the same Message-ID must be taken in again later.
    Column("refused", Boolean, nullable=False, server_default=text("false")),
    CheckConstraint(
        "outcome IN ('comment', 'internal_comment', 'new_ticket', 'auto_reply', 'bounce', "
        "'rejected')",
        name="outcome_known",
    ),
)
# A mail we took responsibility for acts once: a second copy finds its Message-ID here.
Index(
    "ix_inbound_mails_message_id",
    inbound_mails.c.message_id,
    unique=True,
    postgresql_where=~inbound_mails.c.refused,
)
Index("ix_inbound_mails_received", inbound_mails.c.received_at, inbound_mails.c.id)
Index("ix_inbound_mails_ticket", inbound_mails.c.ticket_id, inbound_mails.c.received_at)
Index("ix_inbound_mails_sender", inbound_mails.c.sender, inbound_mails.c.received_at)
