"""inbound mails, ticket and people replicas, notification status bounced

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

OLD_STATUSES = "status IN ('pending', 'sent', 'failed', 'dead')"
NEW_STATUSES = "status IN ('pending', 'sent', 'failed', 'dead', 'bounced')"


def upgrade() -> None:
    op.create_table(
        "inbound_mails",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("ticket_id", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("raw_size", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("refused", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('comment', 'internal_comment', 'new_ticket', 'auto_reply', 'bounce', "
            "'rejected')",
            name=op.f("ck_inbound_mails_outcome_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_mails")),
    )
    op.create_index(
        "ix_inbound_mails_message_id",
        "inbound_mails",
        ["message_id"],
        unique=True,
        postgresql_where=sa.text("NOT refused"),
    )
    op.create_index("ix_inbound_mails_received", "inbound_mails", ["received_at", "id"])
    op.create_index("ix_inbound_mails_ticket", "inbound_mails", ["ticket_id", "received_at"])
    op.create_index("ix_inbound_mails_sender", "inbound_mails", ["sender", "received_at"])
    op.create_table(
        "ticket_refs",
        sa.Column("ticket_id", sa.String(length=200), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("requester_id", sa.String(length=200), nullable=False),
        sa.Column("requester_email", sa.String(length=320), nullable=False),
        sa.Column("requester_locale", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("waiting_reason", sa.String(length=40), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_refs")),
    )
    op.create_index("ix_ticket_refs_number", "ticket_refs", ["number"])
    op.create_table(
        "people",
        sa.Column("person_id", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_people")),
    )
    op.create_index("ix_people_email", "people", [sa.text("lower(email)")])
    op.create_index("ix_notifications_message_id", "notifications", ["message_id"])
    op.drop_constraint(op.f("ck_notifications_status_known"), "notifications", type_="check")
    op.create_check_constraint(op.f("ck_notifications_status_known"), "notifications", NEW_STATUSES)


def downgrade() -> None:
    op.execute("UPDATE notifications SET status = 'sent' WHERE status = 'bounced'")
    op.drop_constraint(op.f("ck_notifications_status_known"), "notifications", type_="check")
    op.create_check_constraint(op.f("ck_notifications_status_known"), "notifications", OLD_STATUSES)
    op.drop_index("ix_notifications_message_id", table_name="notifications")
    op.drop_index("ix_people_email", table_name="people")
    op.drop_table("people")
    op.drop_index("ix_ticket_refs_number", table_name="ticket_refs")
    op.drop_table("ticket_refs")
    op.drop_index("ix_inbound_mails_sender", table_name="inbound_mails")
    op.drop_index("ix_inbound_mails_ticket", table_name="inbound_mails")
    op.drop_index("ix_inbound_mails_received", table_name="inbound_mails")
    op.drop_index("ix_inbound_mails_message_id", table_name="inbound_mails")
    op.drop_table("inbound_mails")
