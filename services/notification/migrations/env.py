from stopclock_notification.models import metadata
from stopclock_shared.alembic_env import run_migrations

run_migrations(metadata)
