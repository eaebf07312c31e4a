from stopclock_escalation.models import metadata
from stopclock_shared.alembic_env import run_migrations

run_migrations(metadata)
