"""Grafana dashboards (deploy/grafana): current schema, sound layout, PromQL that parses and
reads only catalogued metrics, and provisioning that finds them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ops_support import REPO, SERVICES, grafana_to_promql, problems_with, read_expr, require_module

GRAFANA = REPO / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
# Grafana 12.0 saves dashboards at schema version 41; pin the pair together when upgrading.
SCHEMA_FOR_GRAFANA = {"12.0": 41}
PANEL_TYPES = {"row", "timeseries", "stat", "bargauge"}


def load(path: Path) -> dict[str, Any]:
    board: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return board


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    found: list[dict[str, Any]] = []
    for panel in board["panels"]:
        found.append(panel)
        found += panel.get("panels", [])
    return found


def targets() -> list[tuple[str, str]]:
    return [
        (f"{path.stem}#{panel['id']}{target['refId']}", target["expr"])
        for path in DASHBOARDS
        for panel in panels(load(path))
        for target in panel.get("targets", [])
    ]


def pinned_grafana_version() -> str:
    compose = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    match = re.search(r"image: grafana/grafana:(\d+\.\d+)\.\d+", compose)
    assert match, "docker-compose.yml pins no grafana/grafana:X.Y.Z image"
    return match[1]


def test_there_are_an_overview_and_a_per_service_dashboard() -> None:
    assert {path.name for path in DASHBOARDS} == {
        "stopclock-overview.json",
        "stopclock-service.json",
    }


def test_dashboards_are_what_the_generator_writes() -> None:
    result = subprocess.run(
        [sys.executable, str(GRAFANA / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_generator_pins_the_schema_of_the_grafana_image_compose_runs() -> None:
    source = (GRAFANA / "generate.py").read_text(encoding="utf-8")
    version = pinned_grafana_version()
    assert f'GRAFANA_VERSION = "{version}.' in source
    assert f"SCHEMA_VERSION = {SCHEMA_FOR_GRAFANA[version]}" in source


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_is_current_schema_classic_json(path: Path) -> None:
    board = load(path)
    assert board["schemaVersion"] == SCHEMA_FOR_GRAFANA[pinned_grafana_version()]
    assert board["uid"] == path.stem
    assert len(board["uid"]) <= 40
    assert board["title"].startswith("Stopclock")
    assert "stopclock" in board["tags"]
    assert board["id"] is None, "provisioned dashboards get their id from Grafana"


def test_dashboard_uids_and_titles_are_unique() -> None:
    boards = [load(path) for path in DASHBOARDS]
    assert len({b["uid"] for b in boards}) == len({b["title"] for b in boards}) == len(boards)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_panel_ids_are_unique_and_panels_fit_the_grid(path: Path) -> None:
    all_panels = panels(load(path))
    ids = [panel["id"] for panel in all_panels]
    assert len(ids) == len(set(ids))
    occupied: set[tuple[int, int]] = set()
    for panel in all_panels:
        assert panel["type"] in PANEL_TYPES
        grid = panel["gridPos"]
        assert 0 <= grid["x"] <= grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_panel_has_a_description_and_queries_with_distinct_ref_ids(path: Path) -> None:
    for panel in panels(load(path)):
        if panel["type"] == "row":
            continue
        assert panel["description"], panel["title"]
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert ref_ids, panel["title"]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"


@pytest.mark.parametrize(("where", "expr"), targets())
def test_every_panel_query_parses_as_promql(where: str, expr: str) -> None:
    assert read_expr(grafana_to_promql(expr)).selectors, f"{where} reads no series"


@pytest.mark.parametrize(("where", "expr"), targets())
def test_every_panel_query_reads_only_catalogued_metrics(where: str, expr: str) -> None:
    assert problems_with(grafana_to_promql(expr)) == []


def test_a_query_that_does_not_parse_is_caught() -> None:
    promql_parser = require_module("promql_parser", "pip install promql-parser==0.11.0")
    with pytest.raises(ValueError):  # noqa: PT011 - the parser's only error type
        promql_parser.parse("sum by (service (rate(stopclock_ready[5m]))")


def test_the_service_dashboard_offers_every_service() -> None:
    variables = {
        v["name"]: v
        for v in load(GRAFANA / "dashboards/stopclock-service.json")["templating"]["list"]
    }
    assert [option["value"] for option in variables["service"]["options"]] == list(SERVICES)
    exprs = [expr for where, expr in targets() if where.startswith("stopclock-service#")]
    http = [expr for expr in exprs if "stopclock_http_" in expr or "stopclock_outbox_" in expr]
    assert http
    assert all('service="$service"' in expr for expr in http)


def test_the_overview_covers_the_desk() -> None:
    exprs = " ".join(e for where, e in targets() if where.startswith("stopclock-overview#"))
    for needle in (
        "sum by (status) (stopclock_tickets_open)",
        "sum by (priority) (stopclock_tickets_open)",
        'stopclock_sla_clocks{state=~"running|paused"}',
        "stopclock_sla_breaches_total",
        "stopclock_reminders_total",
        "stopclock_manager_escalations_total",
        "sum by (after_breach) (increase(stopclock_surveys_answered_total",
    ):
        assert needle in exprs


def test_provisioning_points_grafana_at_prometheus_and_the_dashboards() -> None:
    yaml = require_module("yaml", "pip install PyYAML==6.0.3")
    provisioning = GRAFANA / "provisioning"
    datasources = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())
    (source,) = datasources["datasources"]
    assert (source["type"], source["uid"], source["url"]) == (
        "prometheus",
        "prometheus",
        "http://prometheus:9090",
    )
    providers = yaml.safe_load((provisioning / "dashboards/stopclock.yml").read_text())
    (provider,) = providers["providers"]
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in mounts
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in mounts
