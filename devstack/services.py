"""The five Stopclock services: migrations, processes and readiness."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from . import ports, postgres, procs
from .config import StackConfig
from .output import StackError, detail, tail


def is_built(service: str) -> bool:
    """True when ``stopclock_<service>`` has a ``__main__`` (the process entry point)."""
    try:
        return importlib.util.find_spec(f"stopclock_{service}.__main__") is not None
    except ModuleNotFoundError:
        return False


def has_migrations(config: StackConfig, service: str) -> bool:
    return (config.repo_root / "services" / service / "migrations" / "env.py").is_file()


def service_env(config: StackConfig, service: str, base: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment plus this service's port and database."""
    env = config.process_env(base)
    env["STOPCLOCK_SERVICE_PORT"] = str(config.service_ports[service])
    env["STOPCLOCK_DATABASE_URL"] = config.database_url(service)
    return env


def _fingerprint(config: StackConfig, service: str) -> str:
    """A hash of the service's migration scripts: a change means alembic must run again."""
    root = config.repo_root / "services" / service / "migrations"
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _stamp_path(config: StackConfig, service: str) -> Path:
    return config.local_dir / "migrations" / f"{service}.json"


def _applied(config: StackConfig, service: str) -> list[str] | None:
    return postgres.query_column(
        config, f"stopclock_{service}", "SELECT version_num FROM alembic_version ORDER BY 1"
    )


def _up_to_date(config: StackConfig, service: str) -> bool:
    """True when the scripts are unchanged since the last run and the database is at its head.

    Spares each start one Python process per service (alembic and the models are slow to
    import), which matters on two cores while the JVM starts Kafka.
    """
    try:
        stamp: dict[str, object] = json.loads(_stamp_path(config, service).read_text())
    except (OSError, ValueError):
        return False
    same_scripts = stamp.get("fingerprint") == _fingerprint(config, service)
    return same_scripts and stamp.get("heads") == _applied(config, service)


def _write_stamp(config: StackConfig, service: str) -> None:
    path = _stamp_path(config, service)
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = {"fingerprint": _fingerprint(config, service), "heads": _applied(config, service)}
    path.write_text(json.dumps(stamp))


def migrate(config: StackConfig, base_env: Mapping[str, str]) -> list[str]:
    """Run every service's migrations to head, in parallel; returns the services migrated.

    A service whose scripts did not change and whose database is at the recorded head is
    skipped.
    """
    todo = [s for s in config.service_ports if has_migrations(config, s)]
    if not todo:
        return []
    if importlib.util.find_spec("stopclock_shared.migrate") is None:
        detail("migrations: skipped, stopclock_shared.migrate not built yet")
        return []
    current = [s for s in todo if _up_to_date(config, s)]
    if current:
        detail(f"migrations: unchanged and at head for {', '.join(current)}")
    todo = [s for s in todo if s not in current]
    running: dict[str, subprocess.Popen[bytes]] = {}
    for service in todo:
        running[service] = procs.spawn(
            [sys.executable, "-m", "stopclock_shared.migrate", service],
            log_path=config.log_path(f"migrate-{service}"),
            env=service_env(config, service, base_env),
            cwd=config.repo_root,
        )
    failed = []
    for service, proc in running.items():
        try:
            code = proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            procs.terminate(proc.pid, timeout=5, proc=proc)
            code = -1
        if code != 0:
            log = config.log_path(f"migrate-{service}")
            failed.append(f"{service} (exit {code}, {log}):\n{tail(log, 30)}")
    if failed:
        raise StackError("migrations failed: " + "\n".join(failed))
    for service in todo:
        _write_stamp(config, service)
    return todo


def start(
    config: StackConfig, service: str, base_env: Mapping[str, str]
) -> subprocess.Popen[bytes]:
    """Start ``python -m stopclock_<service>`` on its port."""
    return procs.spawn(
        [sys.executable, "-m", f"stopclock_{service}"],
        log_path=config.log_path(service),
        env=service_env(config, service, base_env),
        cwd=config.repo_root,
    )


def readyz_url(config: StackConfig, service: str) -> str:
    return f"{config.service_url(service)}/readyz"


def wait_ready(
    config: StackConfig,
    running: Mapping[str, subprocess.Popen[bytes]],
    timeout: float,
) -> dict[str, str]:
    """Poll every service's /readyz until 200; returns {service: problem} for those that failed.

    Progress is printed as each one gets ready, and every 10 s for those still waiting.
    """
    started = time.monotonic()
    pending = dict(running)
    problems: dict[str, str] = {}
    next_report = started + 10
    while pending and time.monotonic() - started < timeout:
        for service, proc in list(pending.items()):
            if proc.poll() is not None:
                problems[service] = f"exited with code {proc.returncode}"
                del pending[service]
            elif ports.http_status(readyz_url(config, service), timeout=1.0) == 200:
                detail(f"{service}: ready ({time.monotonic() - started:.1f} s)")
                del pending[service]
        if pending and time.monotonic() >= next_report:
            detail(f"waiting for /readyz of {', '.join(pending)} ...")
            next_report += 10
        time.sleep(0.2)
    for service in pending:
        problems[service] = f"/readyz not 200 after {timeout:.0f} s"
    return problems
