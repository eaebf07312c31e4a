"""Alert rules (deploy/prometheus/rules): valid, unit-tested with promtool, documented."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ops_support import REPO, problems_with, require_module, require_tool

RULES_DIR = REPO / "deploy" / "prometheus" / "rules"
RULE_TESTS_DIR = REPO / "deploy" / "prometheus" / "tests"
OPERATE = REPO / "docs" / "operate.md"
PROMTOOL_INSTALL = "apt-get install -y --no-install-recommends prometheus"

# The situations issue 7 asks an alert for, by the alert that covers each.
REQUIRED_ALERTS = {
    "StopclockServiceDown": "a service down",
    "StopclockServiceNotReady": "a service not ready",
    "StopclockConsumerLagGrowing": "consumer lag growing",
    "StopclockOutboxStuck": "outbox backlog older than N seconds",
    "StopclockDeadLetters": "DLQ receiving messages",
    "StopclockSlaTimerLagHigh": "breach-timer lag p99 above 1 s",
    "StopclockSlaBreachSpike": "SLA breach rate spike",
    "StopclockMailsDead": "mails dead",
    "StopclockCsatDropping": "survey CSAT dropping",
    "StopclockPausesWithoutQuestion": "waits set without a question to the requester",
}


def load_yaml(path: Path) -> Any:
    yaml = require_module("yaml", "pip install PyYAML==6.0.3")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yml"))


def alerts() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in rule_files():
        for group in load_yaml(path)["groups"]:
            found += [rule for rule in group["rules"] if "alert" in rule]
    return found


def alert_ids(rule: dict[str, Any]) -> str:
    return str(rule["alert"])


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = require_tool("promtool", PROMTOOL_INSTALL)
    return subprocess.run(
        [binary, *args], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def test_rule_files_pass_promtool_check() -> None:
    result = promtool("check", "rules", *map(str, rule_files()))
    assert result.returncode == 0, result.stdout + result.stderr


def test_alerts_behave_as_their_promtool_unit_tests_say() -> None:
    tests = sorted(RULE_TESTS_DIR.glob("*.yml"))
    assert tests, "no promtool unit tests"
    result = promtool("test", "rules", *map(str, tests))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_prometheus_config_is_valid() -> None:
    result = promtool("check", "config", "--syntax-only", "deploy/compose/prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("alert", "situation"), sorted(REQUIRED_ALERTS.items()))
def test_every_situation_of_the_issue_has_an_alert(alert: str, situation: str) -> None:
    assert alert in {rule["alert"] for rule in alerts()}, f"no alert for {situation}"


@pytest.mark.parametrize("rule", alerts(), ids=alert_ids)
def test_every_alert_says_what_happened_and_what_to_do(rule: dict[str, Any]) -> None:
    assert rule["labels"]["severity"] in {"critical", "warning"}
    annotations = rule["annotations"]
    assert {"summary", "description", "runbook"} <= set(annotations)
    assert all(annotations[key].strip() for key in ("summary", "description", "runbook"))
    assert f"docs/operate.md#{rule['alert'].lower()}" in annotations["runbook"]


@pytest.mark.parametrize("rule", alerts(), ids=alert_ids)
def test_every_alert_has_a_runbook_section_in_operate_md(rule: dict[str, Any]) -> None:
    headings = re.findall(r"^#{2,4} (\S+)", OPERATE.read_text(encoding="utf-8"), re.MULTILINE)
    assert rule["alert"] in headings


@pytest.mark.parametrize("rule", alerts(), ids=alert_ids)
def test_every_alert_reads_only_catalogued_metrics(rule: dict[str, Any]) -> None:
    assert problems_with(rule["expr"]) == []


def expectations() -> dict[str, list[bool]]:
    """Alert name -> for each promtool expectation on it, whether it expects the alert firing."""
    found: dict[str, list[bool]] = {}
    for path in sorted(RULE_TESTS_DIR.glob("*.yml")):
        for case in load_yaml(path)["tests"]:
            for check in case.get("alert_rule_test", []):
                found.setdefault(check["alertname"], []).append(bool(check.get("exp_alerts")))
    return found


@pytest.mark.parametrize("rule", alerts(), ids=alert_ids)
def test_every_alert_is_tested_both_firing_and_quiet(rule: dict[str, Any]) -> None:
    outcomes = expectations().get(rule["alert"], [])
    assert True in outcomes, "no promtool test where it fires"
    assert False in outcomes, "no promtool test where it stays quiet"


def test_promtool_unit_tests_load_every_rule_file() -> None:
    expected = {path.resolve() for path in rule_files()}
    for path in sorted(RULE_TESTS_DIR.glob("*.yml")):
        loaded = {(path.parent / name).resolve() for name in load_yaml(path)["rule_files"]}
        assert loaded == expected, path.name
