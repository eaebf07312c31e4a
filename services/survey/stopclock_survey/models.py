"""Tables of the survey service (its own database)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.types import TypeEngine

from stopclock_shared.db import IDENTIFIER, service_metadata, timestamp_column

metadata, outbox, processed_events, idempotency_keys = service_metadata()


def _required(name: str, type_: TypeEngine[Any] | type[TypeEngine[Any]]) -> Column[Any]:
    return Column(name, type_, nullable=False)


def _uuid(
    name: str, *constraints: ForeignKey, primary_key: bool = False, required: bool = False
) -> Column[Any]:
    return Column(
        name,
        UUID(as_uuid=True),
        *constraints,
        primary_key=primary_key,
        nullable=not (primary_key or required),
    )


surveys = Table(
    "surveys",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("ticket_id", required=True),
    _required("requester_id", IDENTIFIER),
    Column("service", IDENTIFIER),
    # Only the digest of the link's token is kept: a leaked table answers nobody's survey.
    Column("token_digest", String(64), nullable=False, unique=True),
    _required("status", String(16)),
    Column("rating", Integer),
    Column("resolved", Boolean),
    Column("comment", Text),
    timestamp_column("sent_at"),
    _required("expires_at", DateTime(timezone=True)),
    timestamp_column("answered_at", nullable=True),
    # The ticket as it was resolved: the page shows it and the events carry it.
    _required("ticket", JSONB),
)
Index("ix_surveys_ticket", surveys.c.ticket_id, surveys.c.sent_at)
Index("ix_surveys_sent", surveys.c.sent_at, surveys.c.id)
Index("ix_surveys_unanswered", surveys.c.expires_at, postgresql_where=surveys.c.status == "sent")

# Tickets one of whose SLA targets was breached, learnt from sla.events (CSAT after breach).
breached_tickets = Table(
    "breached_tickets",
    metadata,
    _uuid("ticket_id", primary_key=True),
    timestamp_column("breached_at"),
)

# -- answer pages: a replica of the waits on requesters, from tickets.events -------------------
# The ticket as the answer page needs it (one row per ticket, the newest snapshot wins).
answer_tickets = Table(
    "answer_tickets",
    metadata,
    _uuid("ticket_id", primary_key=True),
    _required("number", String(32)),
    _required("title", Text),
    _required("requester_id", IDENTIFIER),
    _required("locale", Text),
    _required("timezone", Text),
    Column("assignee_name", Text),
    _required("status", String(32)),
    Column("waiting_reason", String(32)),
    Column("waiting_since", DateTime(timezone=True)),
    # The last public agent comment since the last wait ended: the question of a wait
    # begun without a note.
    Column("agent_comment", Text),
    _required("version", Integer),
    # The snapshot's updated_at: a link to a wait begun later is one the replica has not
    # seen yet (the event is on its way), not a wait that is over.
    _required("updated_at", DateTime(timezone=True)),
)

# Every wait of a ticket, named by when it began (what an answer link carries); how it
# ended, and the answer given on the page (one per wait).
answer_waits = Table(
    "answer_waits",
    metadata,
    _uuid(
        "ticket_id", ForeignKey("answer_tickets.ticket_id", ondelete="CASCADE"), primary_key=True
    ),
    Column("since", DateTime(timezone=True), primary_key=True),
    _required("reason", String(32)),
    Column("question", Text),
    timestamp_column("ended_at", nullable=True),
    Column("ended_how", String(16)),
    timestamp_column("answered_at", nullable=True),
    Column("answer", String(3)),
    Column("comment", Text),
)
Index(
    "ix_answer_waits_open",
    answer_waits.c.ticket_id,
    postgresql_where=answer_waits.c.ended_at.is_(None),
)
