"""announce the people directory on people.events (stopclock.person.updated.v1)

People created before person events existed are published once, so the services that keep
a copy of the directory (the mail gateway: who may write to the desk) know them too. Later
changes are announced by ``PUT /api/v1/people/{id}``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 12:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

# The v1 envelope and PersonRef as of this revision (docs/events.md), frozen here on purpose:
# a migration must not change with the application code.
_ANNOUNCE = """
INSERT INTO outbox (event_id, topic, key, payload)
SELECT p.event_id, 'people.events', p.id, convert_to(jsonb_build_object(
    'specversion', '1.0',
    'id', p.event_id::text,
    'type', 'stopclock.person.updated.v1',
    'source', 'stopclock/ticket',
    'subject', p.id,
    'time', now(),
    'datacontenttype', 'application/json',
    'correlationid', p.event_id::text,
    'data', jsonb_build_object('person', jsonb_build_object(
        'id', p.id, 'name', p.name, 'email', p.email,
        'timezone', p.timezone, 'locale', p.locale, 'vip', p.vip, 'difficult', p.difficult,
        'manager_id', p.manager_id, 'manager_email', m.email, 'manager_name', m.name
    ))
)::text, 'UTF8')
-- A volatile call in a select list runs once per row: one event id per person.
FROM (SELECT people.*, gen_random_uuid() AS event_id FROM people) AS p
LEFT JOIN people AS m ON m.id = p.manager_id
ORDER BY p.id
"""


def upgrade() -> None:
    op.execute(_ANNOUNCE)


def downgrade() -> None:
    pass  # announcements cannot be taken back, and need not be
