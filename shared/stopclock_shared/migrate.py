"""``python -m stopclock_shared.migrate <service> [url]``: bring a service's schema to head."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from .settings import local_database_url


def migrations_dir(service: str) -> Path:
    pkg = importlib.import_module(f"stopclock_{service}")
    assert pkg.__file__ is not None
    return Path(pkg.__file__).resolve().parent.parent / "migrations"


def upgrade(service: str, url: str | None = None) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir(service)))
    cfg.set_main_option(
        "sqlalchemy.url",
        url or os.environ.get("STOPCLOCK_DATABASE_URL") or local_database_url(service),
    )
    command.upgrade(cfg, "head")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m stopclock_shared.migrate <service> [database-url]")
    upgrade(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
    print(f"{sys.argv[1]}: migrations at head")
