"""Prometheus from the Debian package, scraping the five services (deploy/local config)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from . import ports, procs
from .config import StackConfig
from .output import StackError, detail

BINARY = Path("/usr/bin/prometheus")


def installed() -> bool:
    return BINARY.is_file()


def config_path(config: StackConfig) -> Path:
    return config.deploy_dir / "prometheus.local.yml"


def is_debian_service(pid: int) -> bool:
    """True for the Debian package's own daemon: it runs as the `prometheus` user and/or
    reads /etc/prometheus. Anyone else's Prometheus on our port is left alone (an error)."""
    line = procs.cmdline(pid)
    if not line.startswith(str(BINARY)) or "prometheus.local.yml" in line:
        return False
    try:
        owner = pwd.getpwuid(os.stat(f"/proc/{pid}").st_uid).pw_name
    except (OSError, KeyError):
        owner = ""
    return owner == "prometheus" or "--config.file" not in line or "/etc/prometheus/" in line


def stop_debian_service() -> bool:
    """Stop and disable the distribution's prometheus service; True if one was running.

    The package starts it on install where an init system lets it, and it would hold :9090.
    """
    systemd = Path("/run/systemd/system").is_dir()
    holders = [pid for pid in ports.listeners(9090) if is_debian_service(pid)]
    if systemd and shutil.which("systemctl"):
        procs.run_quiet(["systemctl", "disable", "--now", "prometheus"], timeout=60)
    elif Path("/etc/init.d/prometheus").is_file():
        procs.run_quiet(["/etc/init.d/prometheus", "stop"], timeout=60)
        if shutil.which("update-rc.d"):
            procs.run_quiet(["update-rc.d", "prometheus", "disable"], timeout=60)
    for pid in holders:  # no init system answered: stop the daemon directly
        procs.terminate(pid, timeout=10, group=False)
    return bool(holders)


def start(config: StackConfig, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start Prometheus on 127.0.0.1:<prometheus_port>, data in .local/prometheus."""
    if not installed():
        raise StackError("prometheus is not installed: run `make install`")
    config.prometheus_data_dir.mkdir(parents=True, exist_ok=True)
    return procs.spawn(
        [
            str(BINARY),
            f"--config.file={config_path(config)}",
            f"--storage.tsdb.path={config.prometheus_data_dir}",
            "--storage.tsdb.retention.time=7d",
            f"--web.listen-address=127.0.0.1:{config.prometheus_port}",
            "--web.enable-lifecycle",
        ],
        log_path=config.log_path("prometheus"),
        env=env,
        cwd=config.repo_root,
    )


def wait_ready(config: StackConfig, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Block until /-/ready answers 200."""

    def ready() -> bool:
        return ports.http_status(f"{config.prometheus_url}/-/ready") == 200

    procs.wait_started("prometheus", proc, ready, config.log_path("prometheus"), timeout, poll=0.2)


def handle_debian_service(config: StackConfig) -> None:
    """Before start: if the distribution's daemon holds our port, stop it (say so)."""
    if any(is_debian_service(pid) for pid in ports.listeners(config.prometheus_port)):
        detail(
            f"prometheus: stopping the Debian prometheus service holding :{config.prometheus_port}"
        )
        stop_debian_service()
