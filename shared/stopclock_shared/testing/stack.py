"""Where the running stack is, from the environment ``make test`` exports (local defaults)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from stopclock_shared.auth import make_token
from stopclock_shared.settings import DEV_JWT_SECRET, SERVICE_PORTS


@dataclass(frozen=True)
class Stack:
    kafka: str
    jwt_secret: str
    maildir: Path
    pg_admin_url: str
    repo_root: Path

    @classmethod
    def from_env(cls) -> Stack:
        root = Path(os.environ.get("STOPCLOCK_REPO_ROOT", Path.cwd()))
        return cls(
            kafka=os.environ.get("STOPCLOCK_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
            jwt_secret=os.environ.get("STOPCLOCK_JWT_SECRET", DEV_JWT_SECRET),
            maildir=Path(os.environ.get("STOPCLOCK_MAILDIR", root / ".local" / "mail")),
            pg_admin_url=os.environ.get(
                "STOPCLOCK_PG_ADMIN_URL",
                "postgresql://stopclock_admin:stopclock_admin@127.0.0.1:55432/postgres",
            ),
            repo_root=root,
        )

    def url(self, service: str) -> str:
        default = f"http://127.0.0.1:{SERVICE_PORTS[service]}"
        return os.environ.get(f"STOPCLOCK_{service.upper()}_URL", default)

    def token(self, sub: str, *roles: str) -> str:
        return make_token(self.jwt_secret, sub, roles)

    def auth(self, sub: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, *roles)}"}


def unique(prefix: str) -> str:
    """Random ids per test, so tests never collide and can run against a live stack."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
