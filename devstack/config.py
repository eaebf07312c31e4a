"""Every default of the local stack, in one place.

The supervisor reads the environment once, into a frozen ``StackConfig``; every other module
takes that config as an argument. Paths all hang off the repository root, so two clones on one
machine never share state (they do share the fixed ports, which is checked at start).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stopclock_shared.settings import DEV_JWT_SECRET

DEFAULT_JWT_SECRET = DEV_JWT_SECRET  # one default for the stack and the services
DEFAULT_PG_PORT = 55432
DEFAULT_KAFKA_BOOTSTRAP = "127.0.0.1:9092"
DEFAULT_KAFKA_CONTROLLER_PORT = 9093
DEFAULT_SMTP_HOST = "127.0.0.1"
DEFAULT_SMTP_PORT = 1025
# Where the notification service takes in mail to the desk (replies, new tickets by mail).
DEFAULT_INBOUND_SMTP_HOST = "127.0.0.1"
DEFAULT_INBOUND_SMTP_PORT = 2525
DEFAULT_PROMETHEUS_PORT = 9090

KAFKA_VERSION = "4.1.1"
KAFKA_HEAP = "1g"
TOPIC_PARTITIONS = 12

# Order matters: it is the start order, and stop goes the other way.
SERVICE_PORTS: dict[str, int] = {
    "ticket": 8000,
    "sla": 8001,
    "notification": 8002,
    "escalation": 8003,
    "survey": 8004,
}

PG_ADMIN_ROLE = "stopclock_admin"

# Every process the stack starts carries this variable (value: the repo root), which is how
# `stop` and the leftover clean-up tell our processes from anyone else's.
MARKER_ENV = "STOPCLOCK_STACK_ROOT"


def find_repo_root() -> Path:
    """The repository this package lives in (``devstack/`` sits at its root)."""
    root = Path(__file__).resolve().parents[1]
    if not ((root / "Makefile").is_file() and (root / "shared" / "stopclock_shared").is_dir()):
        raise RuntimeError(f"{root} does not look like the Stopclock repository")
    return root


def _split_host_port(value: str, default_port: int) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host:
        return value, default_port
    return host, int(port)


class _Below:
    """A path of the stack's layout: another path of the config, then ``parts``."""

    def __init__(self, base: str, *parts: str) -> None:
        self.base = base
        self.parts = parts

    def __get__(self, config: StackConfig, owner: object = None) -> Path:
        return Path(getattr(config, self.base)).joinpath(*self.parts)


@dataclass(frozen=True)
class StackConfig:
    """Ports, paths and secrets of one local stack (one per repository clone)."""

    repo_root: Path
    pg_port: int = DEFAULT_PG_PORT
    kafka_host: str = "127.0.0.1"
    kafka_port: int = 9092
    kafka_controller_port: int = DEFAULT_KAFKA_CONTROLLER_PORT
    smtp_host: str = DEFAULT_SMTP_HOST
    smtp_port: int = DEFAULT_SMTP_PORT
    inbound_smtp_host: str = DEFAULT_INBOUND_SMTP_HOST
    inbound_smtp_port: int = DEFAULT_INBOUND_SMTP_PORT
    prometheus_port: int = DEFAULT_PROMETHEUS_PORT
    jwt_secret: str = DEFAULT_JWT_SECRET
    ci: bool = False
    service_ports: Mapping[str, int] = field(default_factory=lambda: dict(SERVICE_PORTS))

    @classmethod
    def from_env(cls, environ: Mapping[str, str], repo_root: Path | None = None) -> StackConfig:
        """Build the config from ``STOPCLOCK_*`` variables, falling back to the defaults."""
        kafka_host, kafka_port = _split_host_port(
            environ.get("STOPCLOCK_KAFKA_BOOTSTRAP", DEFAULT_KAFKA_BOOTSTRAP), 9092
        )
        return cls(
            repo_root=(repo_root or find_repo_root()).resolve(),
            pg_port=int(environ.get("STOPCLOCK_PG_PORT", DEFAULT_PG_PORT)),
            kafka_host=kafka_host,
            kafka_port=kafka_port,
            kafka_controller_port=int(
                environ.get("STOPCLOCK_KAFKA_CONTROLLER_PORT", DEFAULT_KAFKA_CONTROLLER_PORT)
            ),
            smtp_host=environ.get("STOPCLOCK_SMTP_HOST", DEFAULT_SMTP_HOST),
            smtp_port=int(environ.get("STOPCLOCK_SMTP_PORT", DEFAULT_SMTP_PORT)),
            inbound_smtp_host=environ.get("STOPCLOCK_INBOUND_SMTP_HOST", DEFAULT_INBOUND_SMTP_HOST),
            inbound_smtp_port=int(
                environ.get("STOPCLOCK_INBOUND_SMTP_PORT", DEFAULT_INBOUND_SMTP_PORT)
            ),
            prometheus_port=int(environ.get("STOPCLOCK_PROMETHEUS_PORT", DEFAULT_PROMETHEUS_PORT)),
            jwt_secret=environ.get("STOPCLOCK_JWT_SECRET") or DEFAULT_JWT_SECRET,
            ci=environ.get("CI", "").lower() in ("1", "true", "yes"),
        )

    # -- paths: the layout below the repository root ----------------------------------------
    local_dir = _Below("repo_root", ".local")
    log_dir = _Below("local_dir", "log")
    run_dir = _Below("local_dir", "run")
    mail_dir = _Below("local_dir", "mail")
    kafka_dir = _Below("local_dir", "kafka")
    kafka_lib_dir = _Below("kafka_dir", "lib")
    kafka_data_dir = _Below("kafka_dir", "data")
    prometheus_data_dir = _Below("local_dir", "prometheus")
    # Where the cluster lives, or a symlink to it (see ``postgres.cluster_dir``).
    pg_link = _Below("local_dir", "pg")
    deploy_dir = _Below("repo_root", "deploy", "local")

    @property
    def pg_fallback_dir(self) -> Path:
        """Cluster home when the `postgres` user cannot reach into the repository."""
        digest = hashlib.sha256(str(self.repo_root).encode()).hexdigest()[:12]
        return Path("/var/lib/stopclock") / digest / "pg"

    def log_path(self, part: str) -> Path:
        return self.log_dir / f"{part}.log"

    def pid_path(self, part: str) -> Path:
        return self.run_dir / f"{part}.pid"

    # -- addresses --------------------------------------------------------------------------
    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.kafka_host}:{self.kafka_port}"

    @property
    def pg_admin_url(self) -> str:
        """Superuser DSN in libpq form (asyncpg/psycopg take it as is)."""
        return f"postgresql://{PG_ADMIN_ROLE}:{PG_ADMIN_ROLE}@127.0.0.1:{self.pg_port}/postgres"

    def database_url(self, service: str) -> str:
        """The SQLAlchemy URL a service uses (role = database = password = stopclock_<svc>)."""
        name = f"stopclock_{service}"
        return f"postgresql+asyncpg://{name}:{name}@127.0.0.1:{self.pg_port}/{name}"

    def service_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.service_ports[service]}"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.prometheus_port}"

    # -- environments -----------------------------------------------------------------------
    def _common_env(self) -> dict[str, str]:
        """What the stack's processes and its tests are both told: Kafka, SMTP, JWT."""
        return {
            "STOPCLOCK_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "STOPCLOCK_SMTP_HOST": self.smtp_host,
            "STOPCLOCK_SMTP_PORT": str(self.smtp_port),
            # The notification service takes in mail to the desk there.
            "STOPCLOCK_INBOUND_SMTP_HOST": self.inbound_smtp_host,
            "STOPCLOCK_INBOUND_SMTP_PORT": str(self.inbound_smtp_port),
            "STOPCLOCK_JWT_SECRET": self.jwt_secret,
        }

    def test_env(self) -> dict[str, str]:
        """What the stack tells test and bench processes (on top of the caller's env)."""
        env = {
            **self._common_env(),
            "STOPCLOCK_REPO_ROOT": str(self.repo_root),
            "STOPCLOCK_PG_ADMIN_URL": self.pg_admin_url,
            "STOPCLOCK_MAILDIR": str(self.mail_dir),
            "STOPCLOCK_MAILCATCHER_PIDFILE": str(self.pid_path("mailcatcher")),
            "STOPCLOCK_PROMETHEUS_URL": self.prometheus_url,
        }
        for service in self.service_ports:
            env[f"STOPCLOCK_{service.upper()}_URL"] = self.service_url(service)
            env[f"STOPCLOCK_{service.upper()}_DATABASE_URL"] = self.database_url(service)
        return env

    def process_env(self, base: Mapping[str, str]) -> dict[str, str]:
        """Environment for a process of the stack: the caller's, plus the stack's settings."""
        env = {**base, MARKER_ENV: str(self.repo_root), **self._common_env()}
        env.setdefault("STOPCLOCK_PUBLIC_SURVEY_URL", self.service_url("survey"))
        return env


def load(environ: Mapping[str, str] | None = None) -> StackConfig:
    """The config of this repository's stack, from ``environ`` (default: ``os.environ``)."""
    return StackConfig.from_env(os.environ if environ is None else environ)
