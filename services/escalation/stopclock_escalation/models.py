"""Tables of the escalation service (its own database)."""

from __future__ import annotations

from stopclock_shared.db import common_tables, make_metadata

metadata = make_metadata()
outbox, processed_events, idempotency_keys = common_tables(metadata)
