"""waiting episodes: away_at (the requester's automatic away reply)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 12:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: adding it rewrites nothing, and old episodes were never away.
    op.add_column(
        "waiting_episodes", sa.Column("away_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("waiting_episodes", "away_at")
