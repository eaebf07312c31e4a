"""Start, watch and stop the whole local stack from one supervisor process.

Only one supervisor per repository runs at a time: it holds an flock on
.local/run/stack.lock for its whole life (released by the kernel even on `kill -9`), and
writes its pid to .local/run/stack.pid and its progress to .local/run/stack.json.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from . import (
    kafka,
    leftovers,
    mailcatcher,
    ports,
    postgres,
    procs,
    prometheus,
    services,
    topics,
)
from .config import StackConfig
from .output import StackError, detail, say, tail

INFRA_TIMEOUT = 120.0
SERVICE_READY_TIMEOUT = 90.0
# `make run` brings a dead part back after these waits (the last one repeats); a part that
# stayed up for STABLE_SECONDS starts again from the first.
RESTART_BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
STABLE_SECONDS = 60.0


class StopRequested(Exception):
    """Raised from the signal handler: Ctrl-C, SIGTERM or SIGHUP asked the stack to stop."""


@dataclass
class Part:
    """One process of the stack as the supervisor sees it."""

    name: str
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    note: str = ""
    reported_dead: bool = False
    started_at: float = 0.0
    restarts: int = 0  # consecutive restarts without a stable run in between
    restart_at: float | None = None


# -- the supervisor lock and state file ------------------------------------------------------
def try_lock(config: StackConfig) -> int | None:
    """Take the supervisor lock; returns its fd, or None if another supervisor holds it."""
    config.run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(config.run_dir / "stack.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def acquire(config: StackConfig) -> int | None:
    """Become this repository's supervisor: take the lock and write stack.pid (None: taken)."""
    fd = try_lock(config)
    if fd is not None:
        procs.write_pid(config.run_dir / "stack.pid", os.getpid())
    return fd


def is_locked(config: StackConfig) -> bool:
    """True while some supervisor of this repository is alive."""
    fd = try_lock(config)
    if fd is None:
        return True
    os.close(fd)
    return False


def read_state(config: StackConfig) -> dict[str, object]:
    """The last state the supervisor wrote ({} when none)."""
    try:
        data = json.loads((config.run_dir / "stack.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(config: StackConfig, state: str, **extra: object) -> None:
    path = config.run_dir / "stack.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "state": state, "time": time.time(), **extra}))
    tmp.replace(path)


# -- signals ---------------------------------------------------------------------------------
def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise StopRequested(signal.Signals(signum).name)


def _patience(signum: int, frame: FrameType | None) -> None:
    print("    (already stopping: every part is being shut down in order)", flush=True)


def handle_stop_signals() -> None:
    """Turn SIGINT/SIGTERM/SIGHUP into ``StopRequested`` in the main thread."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_stop)


def _ignore_stop_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _patience)


# -- the stack -------------------------------------------------------------------------------
class Stack:
    """The parts this supervisor started, in start order."""

    def __init__(self, config: StackConfig, base_env: Mapping[str, str]) -> None:
        self.config = config
        self.env = config.process_env(base_env)
        self.base_env = dict(base_env)
        self.parts: list[Part] = []
        self.start_seconds = 0.0

    # -- starting ------------------------------------------------------------------------
    def _add(self, name: str, port: int, proc: subprocess.Popen[bytes]) -> Part:
        part = Part(name, port, self.config.log_path(name), proc, started_at=time.monotonic())
        self.parts.append(part)
        procs.write_pid(self.config.pid_path(name), proc.pid)
        detail(f"{name}: pid {proc.pid}, port {port}, log {part.log}")
        return part

    def _soft_failure(self, part: Part, problem: str) -> None:
        """Locally a service or Prometheus may fail and the rest go on; in CI nothing may."""
        part.note = f"NOT READY: {problem}"
        message = f"{part.name}: {problem}; last lines of {part.log}:\n{tail(part.log)}"
        if self.config.ci:
            raise StackError(message)
        print(f"!!  {message}", flush=True)

    def start(self) -> None:
        """Start every part and wait until each is ready; raise ``StackError`` on failure."""
        config = self.config
        t0 = time.monotonic()
        config.log_dir.mkdir(parents=True, exist_ok=True)
        _write_state(config, "starting")

        cleaned = leftovers.clean(config)
        if cleaned:
            say(f"cleaned up leftovers of an earlier run: {', '.join(cleaned)}")
        built = [s for s in config.service_ports if services.is_built(s)]
        leftovers.check_ports_free(config, [*leftovers.INFRA_PARTS, *built])

        say("starting postgres, kafka, mail catcher, prometheus")
        postgres.ensure_cluster(config)
        kafka.prepare(config)
        pg = postgres.start(config, self.env)
        self._add("postgres", config.pg_port, pg)
        kf = kafka.start(config, self.env)
        self._add("kafka", config.kafka_port, kf)
        mail = self._add(
            "mailcatcher",
            config.smtp_port,
            mailcatcher.spawn(config, self.base_env, die_with_parent=True),
        )
        prom = self._add("prometheus", config.prometheus_port, prometheus.start(config, self.env))

        postgres.wait_ready(config, pg, INFRA_TIMEOUT)
        postgres.ensure_databases(config)
        detail(f"postgres: ready, databases ok ({time.monotonic() - t0:.1f} s)")
        migrated = services.migrate(config, self.base_env)
        if migrated:
            detail(f"migrations: at head for {', '.join(migrated)} ({time.monotonic() - t0:.1f} s)")

        kafka.wait_ready(config, kf, INFRA_TIMEOUT)
        detail(f"kafka: ready ({time.monotonic() - t0:.1f} s)")
        detail(f"kafka: {topics.ensure_topics(config.kafka_bootstrap)}")

        if not _wait_port(config.smtp_host, config.smtp_port, mail, 15):
            raise StackError("mail catcher did not open its port:\n" + tail(mail.log))
        try:
            assert prom.proc is not None
            prometheus.wait_ready(config, prom.proc, 30)
        except StackError as error:
            self._soft_failure(prom, str(error).splitlines()[0])

        self._start_services(built)
        self.start_seconds = time.monotonic() - t0
        _write_state(config, "ready", start_seconds=self.start_seconds)

    def _start_services(self, built: list[str]) -> None:
        config = self.config
        for service in config.service_ports:
            if service not in built:
                detail(f"{service}: skipped: not built yet (no stopclock_{service}/__main__.py)")
        if not built:
            return
        say(f"starting services: {', '.join(built)}")
        running = {}
        for service in built:
            part = self._add(
                service,
                config.service_ports[service],
                services.start(config, service, self.base_env),
            )
            assert part.proc is not None
            running[service] = part.proc
        problems = services.wait_ready(config, running, SERVICE_READY_TIMEOUT)
        for part in self.parts:
            if part.name in problems:
                self._soft_failure(part, problems[part.name])

    # -- watching ------------------------------------------------------------------------
    def newly_dead(self) -> list[Part]:
        """Parts whose process exited since the last call (each reported once)."""
        dead = []
        for part in self.parts:
            if part.proc is not None and not part.reported_dead and part.proc.poll() is not None:
                part.reported_dead = True
                part.note = f"exited with code {part.proc.returncode}"
                dead.append(part)
        return dead

    def report_deaths(self, *, restart: bool = False) -> None:
        """Print every part that died unexpectedly, with the end of its log; with ``restart``,
        schedule it to be started again after a backoff."""
        for part in self.newly_dead():
            if part.name == "mailcatcher" and _restarted_elsewhere(self.config, part):
                continue  # a test stopped it and started its own: that one is in the pid file
            pid = part.proc.pid if part.proc else "?"
            then = ""
            if restart:
                if time.monotonic() - part.started_at >= STABLE_SECONDS:
                    part.restarts = 0
                wait = RESTART_BACKOFF[min(part.restarts, len(RESTART_BACKOFF) - 1)]
                part.restart_at = time.monotonic() + wait
                then = f"; restarting it in {wait:.0f} s"
            else:
                then = "; the rest keeps running"
            print(
                f"!!  {part.name} (pid {pid}) {part.note}{then}. "
                f"Last lines of {part.log}:\n{tail(part.log)}",
                flush=True,
            )

    def _spawn_again(self, part: Part) -> subprocess.Popen[bytes]:
        config = self.config
        if part.name in config.service_ports:
            # A changed service may bring a migration: apply it before the process starts.
            services.migrate(config, self.base_env)
            return services.start(config, part.name, self.base_env)
        if part.name == "postgres":
            return postgres.start(config, self.env)
        if part.name == "kafka":
            return kafka.start(config, self.env)
        if part.name == "mailcatcher":
            return mailcatcher.spawn(config, self.base_env, die_with_parent=True)
        return prometheus.start(config, self.env)

    def restart_due(self) -> None:
        """Start again every dead part whose backoff is over, and say so."""
        now = time.monotonic()
        for part in self.parts:
            if part.restart_at is None or part.restart_at > now:
                continue
            part.restart_at = None
            part.restarts += 1
            try:
                proc = self._spawn_again(part)
            except (StackError, OSError) as error:
                print(f"!!  {part.name}: restart failed: {error}", flush=True)
                part.restart_at = now + RESTART_BACKOFF[-1]  # try again later
                continue
            part.proc, part.started_at, part.reported_dead = proc, time.monotonic(), False
            part.note = f"restarted {part.restarts}x"
            procs.write_pid(self.config.pid_path(part.name), proc.pid)
            say(f"{part.name}: restarted (pid {proc.pid}, restart {part.restarts})")

    def watch(self) -> None:
        """Stay in the foreground, restarting dead parts, until a stop signal arrives."""
        while True:
            time.sleep(1)
            self.report_deaths(restart=True)
            self.restart_due()

    # -- stopping ------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop every part in reverse start order and leave nothing running."""
        _ignore_stop_signals()
        config = self.config
        if self.parts:
            say("stopping the stack")
        _write_state(config, "stopping")
        by_name = {part.name: part for part in self.parts}
        # Services first and all at once; each gets its grace period.
        service_parts = [by_name[s] for s in config.service_ports if s in by_name]
        for part in service_parts:
            if part.proc is not None and part.proc.poll() is None:
                os.killpg(part.proc.pid, signal.SIGTERM)
        for part in service_parts:
            self._stop_part(part, leftovers.SERVICE_STOP_TIMEOUT)
        for name in ("prometheus", "mailcatcher", "kafka"):
            if name in by_name:
                self._stop_part(by_name[name], leftovers.STOP_TIMEOUTS[name])
        # A test may have restarted the mail catcher: that process is ours to stop too.
        leftovers.stop_part_by_pid_file(config, "mailcatcher")
        if "postgres" in by_name:
            postgres.stop(config, by_name["postgres"].proc)
            procs.remove_pid(config.pid_path("postgres"))
            detail("postgres: stopped")
        _write_state(config, "stopped")
        procs.remove_pid(config.run_dir / "stack.pid", os.getpid())

    def _stop_part(self, part: Part, timeout: float) -> None:
        if part.proc is None:
            return
        clean = procs.terminate(part.proc.pid, timeout=timeout, proc=part.proc)
        procs.remove_pid(self.config.pid_path(part.name), part.proc.pid)
        detail(f"{part.name}: stopped" + ("" if clean else f" (killed after {timeout:.0f} s)"))


def _wait_port(host: str, port: int, part: Part, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if part.proc is not None and part.proc.poll() is not None:
            return False
        if ports.is_open(host, port):
            return True
        time.sleep(0.1)
    return False


def _restarted_elsewhere(config: StackConfig, part: Part) -> bool:
    pid = procs.read_pid(config.pid_path(part.name))
    return pid is not None and part.proc is not None and pid != part.proc.pid
