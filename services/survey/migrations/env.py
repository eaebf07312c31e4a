from stopclock_shared.alembic_env import run_migrations
from stopclock_survey.models import metadata

run_migrations(metadata)
