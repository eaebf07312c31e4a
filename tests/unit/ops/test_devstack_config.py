"""The local stack's layout and the environments it hands out (devstack/config.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devstack import procs
from devstack.config import MARKER_ENV, StackConfig
from devstack.output import StackError


def test_every_path_of_the_stack_hangs_off_the_repository(tmp_path: Path) -> None:
    config = StackConfig.from_env({}, tmp_path)
    local = tmp_path.resolve() / ".local"
    assert {
        "local": config.local_dir,
        "log": config.log_dir,
        "run": config.run_dir,
        "mail": config.mail_dir,
        "kafka": config.kafka_dir,
        "kafka lib": config.kafka_lib_dir,
        "kafka data": config.kafka_data_dir,
        "prometheus": config.prometheus_data_dir,
        "pg": config.pg_link,
        "deploy": config.deploy_dir,
        "log file": config.log_path("sla"),
        "pid file": config.pid_path("sla"),
    } == {
        "local": local,
        "log": local / "log",
        "run": local / "run",
        "mail": local / "mail",
        "kafka": local / "kafka",
        "kafka lib": local / "kafka" / "lib",
        "kafka data": local / "kafka" / "data",
        "prometheus": local / "prometheus",
        "pg": local / "pg",
        "deploy": tmp_path.resolve() / "deploy" / "local",
        "log file": local / "log" / "sla.log",
        "pid file": local / "run" / "sla.pid",
    }


def test_two_clones_never_share_a_path(tmp_path: Path) -> None:
    one = StackConfig.from_env({}, tmp_path / "one")
    two = StackConfig.from_env({}, tmp_path / "two")
    assert one.kafka_data_dir != two.kafka_data_dir
    assert one.pg_fallback_dir != two.pg_fallback_dir


def test_processes_and_tests_are_told_the_same_kafka_smtp_and_secret(tmp_path: Path) -> None:
    config = StackConfig.from_env(
        {
            "STOPCLOCK_KAFKA_BOOTSTRAP": "127.0.0.1:19092",
            "STOPCLOCK_SMTP_PORT": "11025",
            "STOPCLOCK_JWT_SECRET": "s3cret",
        },
        tmp_path,
    )
    told = config.process_env({"PATH": "/bin", "STOPCLOCK_SMTP_PORT": "1"})
    tests = config.test_env()
    shared = {
        "STOPCLOCK_KAFKA_BOOTSTRAP": "127.0.0.1:19092",
        "STOPCLOCK_SMTP_HOST": "127.0.0.1",
        "STOPCLOCK_SMTP_PORT": "11025",
        "STOPCLOCK_INBOUND_SMTP_HOST": "127.0.0.1",
        "STOPCLOCK_INBOUND_SMTP_PORT": "2525",
        "STOPCLOCK_JWT_SECRET": "s3cret",
    }
    assert shared.items() <= told.items()
    assert shared.items() <= tests.items()
    # The stack's settings win over the caller's; the caller's others pass through.
    assert told["PATH"] == "/bin"
    assert told[MARKER_ENV] == str(tmp_path.resolve())
    assert MARKER_ENV not in tests
    assert tests["STOPCLOCK_SLA_URL"] == "http://127.0.0.1:8001"


def test_process_env_leaves_a_given_public_survey_url_alone(tmp_path: Path) -> None:
    config = StackConfig.from_env({}, tmp_path)
    assert config.process_env({})["STOPCLOCK_PUBLIC_SURVEY_URL"] == "http://127.0.0.1:8004"
    given = {"STOPCLOCK_PUBLIC_SURVEY_URL": "https://desk.example/s"}
    assert config.process_env(given)["STOPCLOCK_PUBLIC_SURVEY_URL"] == "https://desk.example/s"


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])


def test_wait_started_returns_once_the_part_is_ready(tmp_path: Path) -> None:
    proc = _sleeper()
    polls = 0

    def ready() -> bool:
        nonlocal polls
        polls += 1
        return polls == 3

    try:
        procs.wait_started("part", proc, ready, tmp_path / "part.log", timeout=10, poll=0.01)
    finally:
        proc.kill()
        proc.wait()
    assert polls == 3


def test_wait_started_shows_the_log_tail_of_a_part_that_died(tmp_path: Path) -> None:
    log = tmp_path / "part.log"
    log.write_text("starting\nport already in use\n")
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    proc.wait()
    with pytest.raises(StackError, match=r"part exited with code 3:\n(.|\n)*port already in use"):
        procs.wait_started("part", proc, lambda: False, log, timeout=10, poll=0.01)


def test_wait_started_gives_up_after_the_timeout(tmp_path: Path) -> None:
    proc = _sleeper()
    try:
        with pytest.raises(StackError, match=r"part not ready after 0 s; see .*part\.log"):
            procs.wait_started("part", proc, lambda: False, tmp_path / "part.log", 0.05, 0.01)
    finally:
        proc.kill()
        proc.wait()
