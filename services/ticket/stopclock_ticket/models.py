"""Tables of the ticket service (its own database)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Sequence,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from stopclock_shared.db import IDENTIFIER, LANGUAGE_TAG, MAIL_ADDRESS, service_metadata
from stopclock_shared.db import timestamp_column as _ts

metadata, outbox, processed_events, idempotency_keys = service_metadata()

incident_numbers = Sequence("ticket_number_inc", metadata=metadata)
request_numbers = Sequence("ticket_number_req", metadata=metadata)


people = Table(
    "people",
    metadata,
    Column("id", IDENTIFIER, primary_key=True),
    Column("name", String(300), nullable=False),
    Column("email", MAIL_ADDRESS, nullable=False),
    Column("manager_id", IDENTIFIER),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("locale", LANGUAGE_TAG, nullable=False, server_default="en"),
    Column("vip", Boolean, nullable=False, server_default=text("false")),
    Column("difficult", Boolean, nullable=False, server_default=text("false")),
    _ts("created_at"),
    _ts("updated_at"),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("type", String(32), nullable=False),
    Column("title", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("status", String(32), nullable=False),
    Column("waiting_reason", String(32)),
    Column("priority", String(4), nullable=False),
    Column("impact", String(16), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("requester_id", IDENTIFIER, ForeignKey("people.id"), nullable=False),
    Column("assignee_id", IDENTIFIER),
    Column("group", IDENTIFIER),
    Column("service", IDENTIFIER),
    Column("category", IDENTIFIER),
    Column("work_blocked", Boolean, nullable=False, server_default=text("false")),
    _ts("created_at"),
    _ts("updated_at"),
    _ts("resolved_at", nullable=True),
    _ts("closed_at", nullable=True),
    Column("resolution", Text),
    Column("resolution_reason", String(64)),
    Column("version", Integer, nullable=False, server_default="1"),
    _ts("waiting_since", nullable=True),
)
Index("ix_tickets_created", tickets.c.created_at, tickets.c.id)
Index("ix_tickets_requester", tickets.c.requester_id, tickets.c.created_at)
Index("ix_tickets_status", tickets.c.status, tickets.c.created_at)

comments = Table(
    "comments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("ticket_id", UUID(as_uuid=True), ForeignKey("tickets.id"), nullable=False),
    Column("body", Text, nullable=False),
    Column("visibility", String(16), nullable=False),
    Column("author_id", IDENTIFIER, nullable=False),
    _ts("created_at"),
    Column("channel", String(16), nullable=False, server_default="api"),
    Column("note_kind", String(32)),
)
Index("ix_comments_ticket", comments.c.ticket_id, comments.c.created_at)

history = Table(
    "history",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("ticket_id", UUID(as_uuid=True), ForeignKey("tickets.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("action", String(64), nullable=False),
    Column("actor_id", IDENTIFIER),
    Column("changes", JSONB, nullable=False),
    Column("internal", Boolean, nullable=False, server_default=text("false")),
    _ts("created_at"),
)
Index("ix_history_ticket", history.c.ticket_id, history.c.id)

subscribers = Table(
    "service_subscribers",
    metadata,
    Column("service", IDENTIFIER, primary_key=True),
    Column("person_id", IDENTIFIER, ForeignKey("people.id"), primary_key=True),
    _ts("created_at"),
)

outages = Table(
    "outages",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("service", IDENTIFIER, nullable=False),
    Column("title", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("impact", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    _ts("created_at"),
    _ts("resolved_at", nullable=True),
)

outage_updates = Table(
    "outage_updates",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("outage_id", UUID(as_uuid=True), ForeignKey("outages.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("message", Text, nullable=False),
    _ts("created_at"),
)
