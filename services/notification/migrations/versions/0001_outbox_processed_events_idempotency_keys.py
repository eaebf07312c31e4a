"""outbox, processed events, idempotency keys

Revision ID: 0001
Revises:
Create Date: 2026-11-23 17:23:45.819450
"""

from collections.abc import Sequence

from stopclock_shared.migration_steps import create_common_tables_v1, drop_common_tables_v1

revision: str = "0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    create_common_tables_v1()


def downgrade() -> None:
    drop_common_tables_v1()
