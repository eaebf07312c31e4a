"""Clean up after a crashed or killed run, and refuse ports that someone else holds.

Only processes that are ours (``procs.is_ours``: started by this repository's stack) are ever
signalled; a foreign process on one of our ports is an error that names it.
"""

from __future__ import annotations

from . import ports, postgres, procs, prometheus
from .config import StackConfig
from .output import StackError, detail

# Start order; stopping goes the other way.
INFRA_PARTS = ("postgres", "kafka", "mailcatcher", "prometheus")

# Grace before SIGKILL: Kafka's controlled shutdown takes a while, the rest are quick.
STOP_TIMEOUTS = {"kafka": 20.0, "prometheus": 10.0, "mailcatcher": 5.0}
SERVICE_STOP_TIMEOUT = 15.0


def part_names(config: StackConfig) -> list[str]:
    """Every part in start order."""
    return [*INFRA_PARTS, *config.service_ports]


def part_ports(config: StackConfig) -> dict[str, list[int]]:
    """The TCP ports each part listens on (its main port first)."""
    result = {
        "postgres": [config.pg_port],
        "kafka": [config.kafka_port, config.kafka_controller_port],
        "mailcatcher": [config.smtp_port],
        "prometheus": [config.prometheus_port],
        **{service: [port] for service, port in config.service_ports.items()},
    }
    if "notification" in result and config.inbound_smtp_port:
        # Mail to the desk: an SMTP listener inside the notification process.
        result["notification"].append(config.inbound_smtp_port)
    return result


def _stop_ours(config: StackConfig, name: str, pid: int) -> None:
    if name == "postgres":
        postgres.stop(config)
    if procs.is_alive(pid):
        procs.terminate(pid, timeout=STOP_TIMEOUTS.get(name, SERVICE_STOP_TIMEOUT), group=False)


def stop_part_by_pid_file(config: StackConfig, name: str) -> bool:
    """Stop the process named in .local/run/<name>.pid if it is ours; True if one ran."""
    path = config.pid_path(name)
    pid = procs.read_pid(path)
    stopped = False
    if name == "postgres":
        if postgres.leftover_pid(config) is not None:
            postgres.stop(config)
            stopped = True
    elif pid is not None and procs.is_ours(pid, config):
        procs.terminate(pid, timeout=STOP_TIMEOUTS.get(name, SERVICE_STOP_TIMEOUT))
        stopped = True
    path.unlink(missing_ok=True)
    return stopped


def clean(config: StackConfig) -> list[str]:
    """Stop every leftover process of ours, in stop order; returns the parts stopped."""
    stopped = []
    for name in reversed(part_names(config)):
        if stop_part_by_pid_file(config, name):
            stopped.append(name)
    # Ours but without a pid file (e.g. killed between spawn and write): found by port.
    for name, numbers in part_ports(config).items():
        for port in numbers:
            for pid in ports.listeners(port):
                if procs.is_ours(pid, config, strict=True):
                    _stop_ours(config, name, pid)
                    stopped.append(name)
    return stopped


def check_ports_free(config: StackConfig, parts: list[str]) -> None:
    """Raise a clear error if a port of ``parts`` is held by a process that is not ours."""
    wanted = part_ports(config)
    for name in parts:
        for port in wanted[name]:
            holders = ports.listeners(port)
            if name == "prometheus" and any(prometheus.is_debian_service(p) for p in holders):
                detail(f"prometheus: stopping the Debian prometheus service on :{port}")
                prometheus.stop_debian_service()
                holders = ports.listeners(port)
            for pid in holders:
                if procs.is_ours(pid, config, strict=True):
                    detail(f"{name}: stopping our leftover {procs.describe(pid)}")
                    _stop_ours(config, name, pid)
                else:
                    raise StackError(
                        f"port {port} (needed by {name}) is held by another process: "
                        f"{procs.describe(pid)}. Stop it, or `make stop` in the repository "
                        "that started it."
                    )
            if not holders and ports.is_open("127.0.0.1", port):
                raise StackError(
                    f"port {port} (needed by {name}) is in use by a process this user cannot see"
                )
