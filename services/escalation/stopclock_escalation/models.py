"""Tables of the escalation service (its own database)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.sql.schema import SchemaItem

from stopclock_shared.db import IDENTIFIER, service_metadata
from stopclock_shared.db import timestamp_column as _ts

metadata, outbox, processed_events, idempotency_keys = service_metadata()


def _table(name: str, *items: SchemaItem) -> Table:
    return Table(name, metadata, *items)


# The API body of PUT /escalation/policies/{name}, stored whole: a policy is read as one value.
escalation_policies = _table(
    "escalation_policies",
    Column("name", IDENTIFIER, primary_key=True),
    Column("spec", JSONB, nullable=False),
    _ts("created_at"),
    _ts("updated_at"),
)

# A copy of the SLA service's calendars, learnt from `calendar_updated` events on sla.events.
calendars = _table(
    "calendars",
    Column("name", IDENTIFIER, primary_key=True),
    Column("spec", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    _ts("received_at"),
)

waiting_episodes = _table(
    "waiting_episodes",
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("ticket_id", UUID(as_uuid=True), nullable=False),
    Column("requester_id", IDENTIFIER, nullable=False),
    # Kafka partition of the ticket's messages: the replica owning it owns the timers.
    Column("partition", Integer, nullable=False),
    # The policy as it was when waiting started (a later change never moves these reminders).
    Column("policy", JSONB, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("reminders_at", ARRAY(DateTime(timezone=True)), nullable=False),
    Column("final_at", DateTime(timezone=True), nullable=False),
    Column("reminders_sent", Integer, nullable=False, server_default="0"),
    Column("state", String(32), nullable=False),  # EpisodeState
    Column("ended_at", DateTime(timezone=True)),
    Column("response_seconds", Float),
    # When the requester's automatic away reply arrived (the episode is then "away").
    Column("away_at", DateTime(timezone=True)),
    # Due time of the next step while open, so a replica rebuilds its timers in one query.
    Column("next_due_at", DateTime(timezone=True)),
    # The latest ticket snapshot seen (events carry it), for the decision and the events.
    Column("ticket", JSONB, nullable=False),
    Column("ticket_version", Integer, nullable=False),
    Column("correlation_id", IDENTIFIER),
    _ts("created_at"),
    _ts("updated_at"),
)
Index(
    "uq_waiting_episodes_open_ticket",
    waiting_episodes.c.ticket_id,
    unique=True,
    postgresql_where=waiting_episodes.c.state == "open",
)
Index(
    "ix_waiting_episodes_requester", waiting_episodes.c.requester_id, waiting_episodes.c.started_at
)
Index(
    "ix_waiting_episodes_partition_open",
    waiting_episodes.c.partition,
    postgresql_where=waiting_episodes.c.state == "open",
)

escalations = _table(
    "escalations",
    Column("id", UUID(as_uuid=True), primary_key=True),
    # Total order of what happened, also when two steps share an instant (zero grace).
    Column("seq", BigInteger, Identity(), nullable=False, unique=True),
    Column("ticket_id", UUID(as_uuid=True), nullable=False),
    Column("episode_id", UUID(as_uuid=True)),
    Column("kind", String(32), nullable=False),
    Column("level", Integer, nullable=False),
    Column("detail", Text, nullable=False),
    # When it happened (a timer step: the instant it was due), not when the row was written.
    Column("created_at", DateTime(timezone=True), nullable=False),
    _ts("recorded_at"),
)
Index("ix_escalations_ticket", escalations.c.ticket_id, escalations.c.created_at, escalations.c.seq)
# A step of an episode's ladder happens once, whatever replica fires it.
Index(
    "uq_escalations_episode_level",
    escalations.c.episode_id,
    escalations.c.level,
    unique=True,
    postgresql_where=escalations.c.episode_id.isnot(None),
)
