"""`status`: what runs, found from pid files and live probes (works from any shell)."""

from __future__ import annotations

from . import leftovers, ports, procs, services
from .config import StackConfig
from .output import table

HEADERS = ("part", "pid", "port", "ready", "log")
INBOUND_PART = "notification inbound SMTP"


def _ready(config: StackConfig, name: str) -> str:
    if name == "prometheus":
        return "yes" if ports.http_status(f"{config.prometheus_url}/-/ready") == 200 else "no"
    if name in config.service_ports:
        status = ports.http_status(services.readyz_url(config, name), timeout=1.0)
        return "yes" if status == 200 else ("no" if status is None else f"no ({status})")
    port = leftovers.part_ports(config)[name][0]
    host = {"kafka": config.kafka_host, "mailcatcher": config.smtp_host}.get(name, "127.0.0.1")
    return "yes" if ports.is_open(host, port) else "no"


def _inbound_row(config: StackConfig, pid_cell: str) -> list[str]:
    """The notification service's SMTP listener for mail to the desk: open or closed."""
    host, port = config.inbound_smtp_host, config.inbound_smtp_port
    state = "open" if ports.is_open(host, port) else "closed"
    log = str(config.log_path("notification"))
    return [INBOUND_PART, pid_cell, str(port), state, log]


def rows(config: StackConfig) -> list[list[str]]:
    """One row per part: pid (or '-'), port, ready, log path; the notification service's
    inbound SMTP listener gets a row of its own right after it."""
    result = []
    for name in leftovers.part_names(config):
        pid = procs.read_pid(config.pid_path(name))
        alive = pid is not None and procs.is_alive(pid)
        if not alive and name in config.service_ports and not services.is_built(name):
            pid_cell, ready = "-", "not built yet"
        else:
            pid_cell = str(pid) if alive else "-"
            ready = _ready(config, name)
        port = str(leftovers.part_ports(config)[name][0])
        result.append([name, pid_cell, port, ready, str(config.log_path(name))])
        if name == "notification" and config.inbound_smtp_port:
            result.append(_inbound_row(config, pid_cell))
    return result


def render(config: StackConfig) -> str:
    """The status table as text."""
    return table(HEADERS, rows(config))
