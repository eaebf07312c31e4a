"""Tables of the survey service (its own database)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from stopclock_shared.db import common_tables, make_metadata

metadata = make_metadata()
outbox, processed_events, idempotency_keys = common_tables(metadata)


def _ts(name: str, nullable: bool = False) -> Column[object]:
    if nullable:
        return Column(name, DateTime(timezone=True))
    return Column(name, DateTime(timezone=True), nullable=False, server_default=text("now()"))


surveys = Table(
    "surveys",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("ticket_id", UUID(as_uuid=True), nullable=False),
    Column("requester_id", String(200), nullable=False),
    Column("service", String(200)),
    # Only the digest of the link's token is kept: a leaked table answers nobody's survey.
    Column("token_digest", String(64), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("rating", Integer),
    Column("resolved", Boolean),
    Column("comment", Text),
    _ts("sent_at"),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    _ts("answered_at", nullable=True),
    # The ticket as it was resolved: the page shows it and the events carry it.
    Column("ticket", JSONB, nullable=False),
)
Index("ix_surveys_ticket", surveys.c.ticket_id, surveys.c.sent_at)
Index("ix_surveys_sent", surveys.c.sent_at, surveys.c.id)
Index("ix_surveys_unanswered", surveys.c.expires_at, postgresql_where=surveys.c.status == "sent")

# Tickets one of whose SLA targets was breached, learnt from sla.events (CSAT after breach).
breached_tickets = Table(
    "breached_tickets",
    metadata,
    Column("ticket_id", UUID(as_uuid=True), primary_key=True),
    _ts("breached_at"),
)

# -- answer pages: a replica of the waits on requesters, from tickets.events -------------------
# The ticket as the answer page needs it (one row per ticket, the newest snapshot wins).
answer_tickets = Table(
    "answer_tickets",
    metadata,
    Column("ticket_id", UUID(as_uuid=True), primary_key=True),
    Column("number", String(32), nullable=False),
    Column("title", Text, nullable=False),
    Column("requester_id", String(200), nullable=False),
    Column("locale", Text, nullable=False),
    Column("timezone", Text, nullable=False),
    Column("assignee_name", Text),
    Column("status", String(32), nullable=False),
    Column("waiting_reason", String(32)),
    Column("waiting_since", DateTime(timezone=True)),
    # The last public agent comment since the last wait ended: the question of a wait
    # begun without a note.
    Column("agent_comment", Text),
    Column("version", Integer, nullable=False),
    # The snapshot's updated_at: a link to a wait begun later is one the replica has not
    # seen yet (the event is on its way), not a wait that is over.
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Every wait of a ticket, named by when it began (what an answer link carries); how it
# ended, and the answer given on the page (one per wait).
answer_waits = Table(
    "answer_waits",
    metadata,
    Column(
        "ticket_id",
        UUID(as_uuid=True),
        ForeignKey("answer_tickets.ticket_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("since", DateTime(timezone=True), primary_key=True),
    Column("reason", String(32), nullable=False),
    Column("question", Text),
    _ts("ended_at", nullable=True),
    Column("ended_how", String(16)),
    _ts("answered_at", nullable=True),
    Column("answer", String(3)),
    Column("comment", Text),
)
Index(
    "ix_answer_waits_open",
    answer_waits.c.ticket_id,
    postgresql_where=answer_waits.c.ended_at.is_(None),
)
