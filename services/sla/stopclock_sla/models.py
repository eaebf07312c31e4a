"""Tables of the sla service (its own database).

Policies and calendars are versioned: a `PUT` adds a row with the next version and the
current one is the highest. Versions are never changed or deleted, so a ticket can keep
the versions it started with (its clocks name calendars as `name@version`).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from stopclock_shared.db import common_tables, make_metadata

metadata = make_metadata()
outbox, processed_events, idempotency_keys = common_tables(metadata)


def _created_at() -> Column[object]:
    return Column(
        "created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")
    )


policies = Table(
    "policies",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("spec", JSONB, nullable=False),  # the API body, normalised by the domain
    _created_at(),
)

calendars = Table(
    "calendars",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("spec", JSONB, nullable=False),  # the API body as given (holidays by country kept)
    _created_at(),
)

ticket_clocks = Table(
    "ticket_clocks",
    metadata,
    Column("ticket_id", UUID(as_uuid=True), primary_key=True),
    # The tickets.events partition of the ticket: whoever owns it owns the ticket's timer.
    Column("partition", Integer, nullable=False),
    Column("aggregate", JSONB, nullable=False),  # TicketClocks.to_dict()
    Column("ticket", JSONB, nullable=False),  # the latest ticket snapshot (event-carried state)
    Column("clock_states", ARRAY(String(16)), nullable=False, server_default="{}"),
    Column("next_due", DateTime(timezone=True)),
    # The resolution clock's start (None: no resolution clock): the pause audit's window.
    Column("resolution_started_at", DateTime(timezone=True)),
    _created_at(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)
Index("ix_ticket_clocks_partition_next_due", ticket_clocks.c.partition, ticket_clocks.c.next_due)
Index("ix_ticket_clocks_resolution_started_at", ticket_clocks.c.resolution_started_at)
