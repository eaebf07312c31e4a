"""The PostgreSQL cluster of the local stack: one cluster, one role and database per service.

PostgreSQL refuses to run as root, so as root every server binary runs as the `postgres` OS
user. That user must be able to walk down to the data directory: when the repository sits
under a directory it cannot enter (e.g. /root), the cluster lives in
/var/lib/stopclock/<hash of the repo path>/pg instead and .local/pg is a symlink to it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from . import ports, procs
from .config import PG_ADMIN_ROLE, StackConfig
from .output import StackError, detail

_LIB = Path("/usr/lib/postgresql")
# A unix socket path must fit in sockaddr_un (108 bytes with the NUL).
_MAX_SOCKET_PATH = 100


def bin_dir() -> Path | None:
    """The newest installed server's bin directory (Debian layout), if any."""
    found = [p.parent for p in _LIB.glob("*/bin/initdb")]

    def major(path: Path) -> tuple[int, str]:
        name = path.parent.name
        return (int(name), name) if name.isdigit() else (0, name)

    return max(found, key=major) if found else None


def _bin(name: str) -> str:
    directory = bin_dir()
    if directory is None:
        raise StackError("PostgreSQL is not installed: run `make install`")
    return str(directory / name)


def os_user() -> str | None:
    """The OS user the server runs as: `postgres` when we are root, else ourselves (None)."""
    return "postgres" if os.geteuid() == 0 else None


def _reachable_by_server(directory: Path) -> bool:
    user = os_user()
    if user is None:
        return True
    return procs.run_quiet(["test", "-x", str(directory)], user=user, cwd=Path("/")).returncode == 0


def _socket_fits(directory: Path, port: int) -> bool:
    return len(str(directory / f".s.PGSQL.{port}.lock")) <= _MAX_SOCKET_PATH


def cluster_dir(config: StackConfig, *, create: bool = True) -> Path:
    """Where the cluster's data lives (see the module docstring); made when ``create``."""
    link = config.pg_link
    if link.is_symlink():
        target = link.resolve()
        if create:
            target.mkdir(parents=True, exist_ok=True)
        return target
    if link.is_dir() or not create:
        return link
    config.local_dir.mkdir(parents=True, exist_ok=True)
    if _reachable_by_server(config.local_dir) and _socket_fits(link, config.pg_port):
        link.mkdir()
        return link
    # A fresh .local means a fresh cluster: drop what an earlier .local pointed to.
    target = config.pg_fallback_dir
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    os.chmod(target.parent, 0o755)
    link.symlink_to(target)
    detail(f"postgres: {config.local_dir} is not reachable by the postgres user;")
    detail(f"          cluster placed in {target} (symlinked from {link})")
    return target


def _own(directory: Path) -> None:
    user = os_user()
    if user is not None:
        shutil.chown(directory, user, user)
    directory.chmod(0o700)


def ensure_cluster(config: StackConfig) -> Path:
    """Run initdb once; later calls find PG_VERSION and return at once."""
    data = cluster_dir(config)
    if (data / "PG_VERSION").is_file():
        return data
    detail(f"postgres: initdb {data}")
    for child in data.iterdir():  # a half-done initdb leaves files behind
        shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    _own(data)
    result = procs.run_quiet(
        [
            _bin("initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            # The socket sits in the 0700 data dir, so only its owner (and root) can reach it.
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
        ],
        user=os_user(),
        cwd=Path("/"),
    )
    with config.log_path("postgres").open("a") as log:
        log.write(result.stdout + result.stderr)
    if result.returncode != 0:
        raise StackError(f"initdb failed:\n{result.stdout}{result.stderr}")
    return data


def start(config: StackConfig, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start the postmaster as our child (it is stopped with ``stop``)."""
    data = cluster_dir(config)
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(config.pg_port),
        "unix_socket_directories": str(data),
        "max_connections": "300",
        "shared_buffers": "256MB",
        "cluster_name": "stopclock",
        "log_line_prefix": "%m [%p] %q%u@%d ",
    }
    argv = [_bin("postgres"), "-D", str(data)]
    for key, value in settings.items():
        argv += ["-c", f"{key}={value}"]
    server_env = {k: v for k, v in env.items() if not k.startswith("PG")}
    return procs.spawn(
        argv, log_path=config.log_path("postgres"), env=server_env, cwd=data, user=os_user()
    )


def _postmaster_status(data: Path) -> tuple[int | None, str]:
    """(pid, status) from postmaster.pid; status is 'ready' once connections are accepted."""
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None, ""
    pid = int(lines[0]) if lines and lines[0].strip().isdigit() else None
    status = lines[7].strip() if len(lines) > 7 else ""
    return pid, status


def wait_ready(config: StackConfig, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Block until the server accepts connections; raise with its log tail if it dies."""
    data = cluster_dir(config)

    def ready() -> bool:
        pid, status = _postmaster_status(data)
        return pid == proc.pid and status == "ready" and ports.is_open("127.0.0.1", config.pg_port)

    procs.wait_started("postgres", proc, ready, config.log_path("postgres"), timeout, poll=0.1)


def _setup_sql(services: list[str]) -> str:
    roles = ", ".join(f"'stopclock_{s}'" for s in services)
    # \gexec runs each generated statement; CREATE DATABASE cannot run inside a DO block.
    return f"""
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', r, r)
  FROM unnest(ARRAY[{roles}]) AS r
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r)
\\gexec
SELECT format('CREATE ROLE %I LOGIN SUPERUSER PASSWORD %L', r, r)
  FROM unnest(ARRAY['{PG_ADMIN_ROLE}']) AS r
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r)
\\gexec
SELECT format('CREATE DATABASE %I OWNER %I', r, r)
  FROM unnest(ARRAY[{roles}]) AS r
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = r)
\\gexec
"""


def _psql(config: StackConfig, database: str, sql: str) -> subprocess.CompletedProcess[str]:
    """Run ``sql`` as the `postgres` superuser over the cluster's unix socket."""
    return procs.run_quiet(
        [
            _bin("psql"),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(cluster_dir(config)),
            "-p",
            str(config.pg_port),
            "-U",
            "postgres",
            "-d",
            database,
        ],
        input_text=sql,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
        timeout=60,
    )


def ensure_databases(config: StackConfig) -> None:
    """Create the service roles and databases and the test superuser (idempotent)."""
    result = _psql(config, "postgres", _setup_sql(list(config.service_ports)))
    if result.returncode != 0:
        raise StackError(f"creating roles and databases failed:\n{result.stderr}")


def query_column(config: StackConfig, database: str, sql: str) -> list[str] | None:
    """The first column of ``sql``'s rows in ``database``, or None if the query failed."""
    result = _psql(config, database, sql)
    if result.returncode != 0:
        return None
    return [line for line in result.stdout.splitlines() if line]


def _pg_ctl_stop(data: Path, timeout: float) -> bool:
    result = procs.run_quiet(
        [_bin("pg_ctl"), "stop", "-D", str(data), "-m", "fast", "-w", "-t", str(int(timeout))],
        user=os_user(),
        cwd=Path("/"),
        timeout=timeout + 10,
    )
    return result.returncode == 0


def stop(config: StackConfig, proc: subprocess.Popen[bytes] | None = None) -> None:
    """`pg_ctl stop -m fast`, then make sure the postmaster (and only it) is gone."""
    data = cluster_dir(config, create=False)
    pid, _ = _postmaster_status(data)
    if pid is None and proc is None:
        return
    if bin_dir() is not None and pid is not None and procs.is_alive(pid):
        _pg_ctl_stop(data, 60)
    target = proc.pid if proc is not None else pid
    if target is not None:
        # SIGINT is PostgreSQL's fast shutdown; only the postmaster gets it, it stops the rest.
        procs.terminate(target, timeout=30, sig=2, proc=proc, group=False)


def leftover_pid(config: StackConfig) -> int | None:
    """The postmaster of our cluster if one is still running (e.g. after a crashed run)."""
    data = cluster_dir(config, create=False)
    pid, _ = _postmaster_status(data)
    return pid if pid is not None and procs.is_ours(pid, config) else None
