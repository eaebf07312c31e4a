"""Tables of the notification service (its own database)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from stopclock_shared.db import common_tables, make_metadata

metadata = make_metadata()
outbox, processed_events, idempotency_keys = common_tables(metadata)

STATUSES = ("pending", "sent", "failed", "dead")
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
    Column("event_id", String(200), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("correlation_id", String(200)),
    # Text, not uuid: outage mails have none, and the log must accept any id an event carries.
    Column("ticket_id", String(200)),
    Column("kind", String(40), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("recipient_id", String(200)),
    Column("locale", String(16), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("context", JSONB, nullable=False),
    Column("subject", Text, nullable=False),
    Column("message_id", String(300)),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    # When a sender may (re)try; while a sender holds a row it is the end of its lease.
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("sent_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('pending', 'sent', 'failed', 'dead')", name="status_known"),
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

# Kinds of mail a person refused (optional kinds only; API.md "Notification service").
preferences = Table(
    "preferences",
    metadata,
    Column("person_id", String(200), primary_key=True),
    Column("opt_out", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)
