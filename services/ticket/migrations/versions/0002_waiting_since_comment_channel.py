"""tickets.waiting_since; comments.channel and note_kind (answers by mail and page)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("waiting_since", sa.DateTime(timezone=True)))
    # Tickets already waiting: their wait began with the last move into waiting_on_user.
    op.execute(
        """
        UPDATE tickets AS t SET waiting_since = coalesce(
            (SELECT max(h.created_at) FROM history AS h
              WHERE h.ticket_id = t.id AND h.action = 'status_changed'
                AND h.changes -> 'status' ->> 1 = 'waiting_on_user'),
            t.updated_at)
        WHERE t.status = 'waiting_on_user'
        """
    )
    op.add_column(
        "comments",
        sa.Column("channel", sa.String(length=16), server_default="api", nullable=False),
    )
    op.add_column("comments", sa.Column("note_kind", sa.String(length=32)))


def downgrade() -> None:
    op.drop_column("comments", "note_kind")
    op.drop_column("comments", "channel")
    op.drop_column("tickets", "waiting_since")
