"""ticket clocks: resolution_started_at (the pause audit's window)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "ticket_clocks",
        sa.Column("resolution_started_at", sa.DateTime(timezone=True), nullable=True),
    )
    # From the aggregate (TicketClocks.to_dict): the started_at of its resolution clock.
    op.execute(
        """
        UPDATE ticket_clocks AS t
        SET resolution_started_at = (
            SELECT CAST(c ->> 'started_at' AS timestamptz)
            FROM jsonb_array_elements(t.aggregate -> 'clocks') AS c
            WHERE c ->> 'target' = 'resolution'
            LIMIT 1
        )
        """
    )
    op.create_index(
        "ix_ticket_clocks_resolution_started_at",
        "ticket_clocks",
        ["resolution_started_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_clocks_resolution_started_at", table_name="ticket_clocks")
    op.drop_column("ticket_clocks", "resolution_started_at")
