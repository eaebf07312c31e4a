"""Shared helpers of the operations tests: the metric catalogue, PromQL reading, tool lookup.

The tests under tests/unit/ops/ check files (alert rules, dashboards, compose, Dockerfile,
Kubernetes manifests), never a running stack. A tool they need (promtool, kustomize) or an
optional package that is missing skips the test locally, with the install command as reason,
and fails it in CI (CI=true), where a skip would hide a broken set-up.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
SERVICES = ("ticket", "sla", "notification", "escalation", "survey")
PORTS = {"ticket": 8000, "sla": 8001, "notification": 8002, "escalation": 8003, "survey": 8004}
# Mail to the desk: the notification service's SMTP listener (API.md, "Common").
INBOUND_SMTP_PORT = 2525

# Labels Prometheus attaches to every scraped series (target labels), whatever the metric.
TARGET_LABELS = frozenset({"service", "job", "instance"})
# Series Prometheus makes itself; not exported by the services, so not in the catalogue.
BUILTIN_METRICS = frozenset({"up"})
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def unavailable(message: str) -> None:
    """Skip the calling test, or fail it in CI, where every tool must be installed."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: a missing tool is a failure)")
    pytest.skip(message, allow_module_level=True)


def require_tool(name: str, install: str) -> str:
    """The path of an executable, or skip/fail with the command that installs it."""
    path = shutil.which(name)
    if path is None:
        unavailable(f"{name} is not installed; install it with: {install}")
        raise AssertionError("unreachable")  # pytest.skip/fail raise; this line keeps mypy sure
    return path


def require_module(name: str, install: str) -> ModuleType:
    """Import a test-only package, or skip/fail with the command that installs it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        unavailable(f"python package {name} is missing; install it with: {install}")
        raise AssertionError("unreachable") from None


def kustomize_command() -> list[str]:
    """How to run `kustomize build`: the repo's pinned binary, one on PATH, or kubectl's."""
    pinned = REPO / ".local" / "bin" / "kustomize"
    if pinned.is_file():
        return [str(pinned), "build"]
    if found := shutil.which("kustomize"):
        return [found, "build"]
    if kubectl := shutil.which("kubectl"):
        return [kubectl, "kustomize"]
    unavailable("neither kustomize nor kubectl is installed; run deploy/k8s/install-kustomize.sh")
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Metric:
    """One row of docs/metrics.md."""

    name: str
    type: str
    labels: frozenset[str]
    meaning: str


ROW = re.compile(
    r"^\|\s*`(?P<name>[a-z_:]+)`\s*\|(?P<type>[^|]*)\|(?P<labels>[^|]*)\|(?P<meaning>.*)\|\s*$"
)


@functools.cache
def catalogue() -> dict[str, Metric]:
    """The metrics of docs/metrics.md by name (rows of its tables whose first cell is `code`)."""
    metrics: dict[str, Metric] = {}
    for line in (REPO / "docs" / "metrics.md").read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match is None:
            continue
        name = match["name"]
        if name in metrics:
            raise ValueError(f"docs/metrics.md lists {name} twice")
        labels = frozenset(re.findall(r"`([a-z_]+)`", match["labels"]))
        metrics[name] = Metric(name, match["type"].strip(), labels, match["meaning"].strip())
    return metrics


@dataclass(frozen=True)
class Selector:
    """A series selector found in a PromQL expression: the metric and the labels it matches."""

    metric: str
    matched_labels: frozenset[str]


@dataclass(frozen=True)
class ExprUse:
    """What a PromQL expression reads: its selectors, and the labels it groups or joins by."""

    selectors: tuple[Selector, ...]
    grouping_labels: frozenset[str]


# Grafana's variables are not PromQL; replace them by values of the same kind before parsing.
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
}


def grafana_to_promql(expr: str) -> str:
    """Substitute Grafana's interval variables; $service inside label values stays as text."""
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def _children(node: Any) -> Iterator[Any]:
    for attribute in ("expr", "lhs", "rhs", "param", "vector_selector"):
        child = getattr(node, attribute, None)
        if child is not None and not isinstance(child, str | int | float):
            yield child
    yield from getattr(node, "args", None) or ()


def read_expr(expr: str) -> ExprUse:
    """Parse PromQL (raises on a syntax error) and list the selectors and grouping labels."""
    promql_parser = require_module("promql_parser", "pip install promql-parser==0.11.0")
    root = promql_parser.parse(expr)
    selectors: list[Selector] = []
    grouping: set[str] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, promql_parser.VectorSelector):
            matchers = node.matchers.matchers if node.matchers is not None else []
            names = frozenset(m.name for m in matchers if m.name != "__name__")
            selectors.append(Selector(str(node.name), names))
        modifier = getattr(node, "modifier", None)
        labels = getattr(modifier, "labels", None)
        if labels:
            grouping.update(str(label) for label in labels)
        stack.extend(_children(node))
    return ExprUse(tuple(selectors), frozenset(grouping))


def catalogue_name(series: str) -> str | None:
    """The catalogue entry a series name belongs to (histograms have _bucket/_sum/_count)."""
    metrics = catalogue()
    if series in metrics:
        return series
    for suffix in HISTOGRAM_SUFFIXES:
        base = series.removesuffix(suffix)
        if base != series and base in metrics and metrics[base].type == "histogram":
            return base
    return None


def problems_with(expr: str) -> list[str]:
    """Why an expression does not fit the catalogue; empty when every name and label does."""
    use = read_expr(expr)
    problems: list[str] = []
    known_labels = set(TARGET_LABELS)
    for selector in use.selectors:
        if selector.metric in BUILTIN_METRICS:
            continue
        name = catalogue_name(selector.metric)
        if name is None:
            problems.append(f"{selector.metric} is not in docs/metrics.md")
            continue
        metric = catalogue()[name]
        if metric.type == "histogram" and selector.metric == name:
            problems.append(f"{name} is a histogram: read its _bucket, _sum or _count series")
        allowed = metric.labels | TARGET_LABELS
        if selector.metric.endswith("_bucket"):
            allowed = allowed | {"le"}
        known_labels |= allowed
        problems += [
            f"{selector.metric} has no label {label}"
            for label in sorted(selector.matched_labels - allowed)
        ]
    problems += [
        f"groups by {label}, which none of its metrics has"
        for label in sorted(use.grouping_labels - known_labels)
    ]
    return problems
