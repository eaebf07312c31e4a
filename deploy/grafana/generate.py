"""Generate the Stopclock Grafana dashboards into deploy/grafana/dashboards/.

The JSON files are what Grafana loads (provisioning, and the Kubernetes ConfigMaps made by
deploy/k8s/sync_monitoring.py); this script is where they are edited. Standard library only.

    python deploy/grafana/generate.py           # rewrite the JSON files
    python deploy/grafana/generate.py --check   # exit 1 if they differ from what it would write

Every PromQL expression here must parse and use only metrics of docs/metrics.md;
tests/unit/ops/test_grafana_dashboards.py checks both.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The Grafana image pinned in docker-compose.yml, and the dashboard schema version it writes.
GRAFANA_VERSION = "12.0.0"
SCHEMA_VERSION = 41

SERVICES = ("ticket", "sla", "notification", "escalation", "survey")
DASHBOARD_DIR = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
GRID_WIDTH = 24

Json = dict[str, Any]


@dataclass(frozen=True)
class Query:
    """One PromQL target of a panel."""

    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Threshold:
    """A colour from `value` upwards; the first step of a panel starts at minus infinity."""

    value: float | None
    color: str


@dataclass(frozen=True)
class Look:
    """How a panel draws: `kind` is a Grafana panel type (timeseries, stat or bargauge)."""

    kind: str = "timeseries"
    unit: str = "short"
    stacked: bool = False
    thresholds: tuple[Threshold, ...] = (Threshold(None, "green"),)
    min: float | None = None
    max: float | None = None


# What a panel plots: one expression (no legend), one query, or several lines.
Queries = str | Query | tuple[Query, ...]
# One panel of a dashboard table: title, width in grid columns (of 24), look, queries,
# description. Adding a panel is adding one of these.
PanelRow = tuple[str, int, Look, Queries, str]
PANEL_HEIGHT = 8


@dataclass(frozen=True)
class Row:
    """A titled row of panels, laid out left to right and wrapped at the grid width."""

    title: str
    panels: tuple[PanelRow, ...]


def rate(selector: str, window: str = "$__rate_interval") -> str:
    """Per-second rate over Grafana's rate interval (at least four scrapes)."""
    return f"rate({selector}[{window}])"


def per_hour(selector: str) -> str:
    """How much a counter grew over the last hour."""
    return f"increase({selector}[1h])"


def quantile(q: float, histogram: str, matchers: str = "", by: str = "le") -> str:
    """The q-quantile of a histogram metric, from its _bucket series."""
    selector = f"{histogram}_bucket{{{matchers}}}" if matchers else f"{histogram}_bucket"
    return f"histogram_quantile({q}, sum by ({by}) ({rate(selector)}))"


def percentiles(histogram: str, qs: Sequence[float], matchers: str = "") -> tuple[Query, ...]:
    """One line per quantile of a histogram, named p50, p99..."""
    return tuple(Query(quantile(q, histogram, matchers), f"p{round(q * 100)}") for q in qs)


def split(by: str, expr: str, legend: str = "") -> Query:
    """``expr`` summed into one line per value of the ``by`` label(s); the legend defaults
    to that value."""
    return Query(f"sum by ({by}) ({expr})", legend or f"{{{{{by}}}}}")


def steps(base: str, *rising: tuple[float, str]) -> tuple[Threshold, ...]:
    """Threshold colours: ``base`` from minus infinity, then each colour from its value up."""
    return (Threshold(None, base), *(Threshold(value, color) for value, color in rising))


def csat(window: str, by: str = "") -> str:
    """Share of satisfied survey answers (rating 4-5) over a window, optionally split."""
    total = f"sum by ({by}) " if by else "sum"
    answered = "stopclock_surveys_answered_total"
    return (
        f'{total}(increase({answered}{{satisfied="true"}}[{window}]))'
        f" / {total}(increase({answered}[{window}]))"
    )


# The looks several panels share.
LINES = Look()
STACKED = Look(stacked=True)
BARS = Look("bargauge")
SECONDS = Look(unit="s")
SHARE = Look(unit="percentunit", min=0, max=1)
NUMBER = Look("stat")
RATIO = Look("stat", "percentunit")
UP = Look("stat", thresholds=steps("red", (1, "green")))

PAUSED_SHARE_6H = (
    "sum(increase(stopclock_sla_resolution_paused_seconds_total[6h]))"
    " / sum(increase(stopclock_sla_resolution_business_seconds_total[6h]))"
)
WITHOUT_QUESTION_6H = (
    'sum(increase(stopclock_sla_waits_total{question="none"}[6h]))'
    " / sum(increase(stopclock_sla_waits_total[6h]))"
)


def overview_rows() -> tuple[Row, ...]:
    """The desk: tickets, SLA clocks, chasing requesters, satisfaction and mail."""
    open_tickets = "stopclock_tickets_open"
    breaches_24h = "sum(increase(stopclock_sla_breaches_total[24h]))"
    met_24h = "sum(increase(stopclock_sla_met_total[24h]))"
    return (
        Row(
            "Tickets",
            (
                (
                    "Open tickets by status",
                    8,
                    BARS,
                    split("status", open_tickets),
                    "Tickets not closed or cancelled, by status.",
                ),
                (
                    "Open tickets by priority",
                    8,
                    BARS,
                    split("priority", open_tickets),
                    "Tickets not closed or cancelled, by priority (P1 is the most urgent).",
                ),
                (
                    "Tickets created per hour",
                    8,
                    STACKED,
                    split("type", per_hour("stopclock_tickets_created_total")),
                    "New incidents and service requests.",
                ),
                (
                    "Open tickets over time",
                    12,
                    STACKED,
                    split("status", open_tickets),
                    "Open tickets by status; a growing waiting_on_user band means requesters"
                    " are slow to answer.",
                ),
                (
                    "Status changes per hour",
                    12,
                    STACKED,
                    split(
                        "to_status",
                        per_hour("stopclock_ticket_transitions_total"),
                        "to {{to_status}}",
                    ),
                    "Transitions applied, by the status reached.",
                ),
            ),
        ),
        Row(
            "SLA",
            (
                (
                    "Clocks running and paused",
                    12,
                    LINES,
                    split("state", 'stopclock_sla_clocks{state=~"running|paused"}'),
                    "A clock is paused while its ticket waits on the requester.",
                ),
                (
                    "Breaches per hour",
                    12,
                    STACKED,
                    split(
                        "priority, target",
                        per_hour("stopclock_sla_breaches_total"),
                        "{{priority}} {{target}}",
                    ),
                    "SLA targets missed, by priority and target.",
                ),
                (
                    "Breaches (24 h)",
                    6,
                    Look("stat", thresholds=steps("green", (1, "orange"), (10, "red"))),
                    breaches_24h,
                    "SLA targets missed over the last 24 hours.",
                ),
                (
                    "Targets met (24 h)",
                    6,
                    Look(
                        "stat",
                        "percentunit",
                        thresholds=steps("red", (0.9, "orange"), (0.95, "green")),
                    ),
                    f"{met_24h} / ({met_24h} + {breaches_24h})",
                    "Share of the clocks that ended in the last 24 hours within their target.",
                ),
                (
                    "Warnings per hour",
                    12,
                    STACKED,
                    split("target", per_hour("stopclock_sla_warnings_total")),
                    "Warnings sent at the configured fractions of a target (50 %, 75 %, 90 %).",
                ),
                (
                    "Paused share and waits without a question (6 h)",
                    12,
                    SHARE,
                    (
                        Query(PAUSED_SHARE_6H, "paused share"),
                        Query(WITHOUT_QUESTION_6H, "waits without a question"),
                    ),
                    "Share of the resolution clocks' business time spent paused, and share of"
                    " the waits set with no question to the requester (no note, no public"
                    " comment before). A high second line means tickets parked in a waiting"
                    " status to stop the clock (alert StopclockPausesWithoutQuestion; the"
                    " per-agent detail is GET /api/v1/sla/reports/pauses).",
                ),
            ),
        ),
        Row(
            "Chasing requesters",
            (
                (
                    "Reminders, escalations and auto-resolves per hour",
                    16,
                    LINES,
                    (
                        Query(f"sum({per_hour('stopclock_reminders_total')})", "reminders"),
                        split(
                            "to",
                            per_hour("stopclock_manager_escalations_total"),
                            "escalated to {{to}}",
                        ),
                        Query(f"sum({per_hour('stopclock_auto_resolves_total')})", "auto-resolved"),
                    ),
                    "What the escalation service did about requesters who do not answer.",
                ),
                (
                    "Tickets waiting on the requester",
                    8,
                    NUMBER,
                    "sum(stopclock_waiting_episodes_open)",
                    "Waiting episodes open now.",
                ),
            ),
        ),
        Row(
            "Satisfaction",
            (
                (
                    "CSAT after an SLA breach and without",
                    12,
                    SHARE,
                    Query(csat("1d", by="after_breach"), "after breach: {{after_breach}}"),
                    "Share of satisfied answers (rating 4-5) over a sliding day, for tickets"
                    " whose SLA was breached (true) and the others (false).",
                ),
                (
                    "CSAT (7 d)",
                    4,
                    Look(
                        "stat",
                        "percentunit",
                        thresholds=steps("red", (0.7, "orange"), (0.85, "green")),
                    ),
                    csat("7d"),
                    "Share of satisfied answers over the last 7 days.",
                ),
                (
                    "Survey response rate (7 d)",
                    4,
                    RATIO,
                    "sum(increase(stopclock_surveys_answered_total[7d]))"
                    " / sum(increase(stopclock_surveys_sent_total[7d]))",
                    "Answers over invitations sent in the last 7 days.",
                ),
                (
                    "Negative answers (7 d)",
                    4,
                    Look("stat", thresholds=steps("green", (1, "orange"))),
                    "sum(increase(stopclock_surveys_negative_total[7d]))",
                    "Ratings of 2 or less, or 'not resolved': each one reached the desk manager.",
                ),
            ),
        ),
        Row(
            "Mail",
            (
                (
                    "Mails per hour",
                    12,
                    LINES,
                    (
                        Query(f"sum({per_hour('stopclock_mails_sent_total')})", "sent"),
                        Query(f"sum({per_hour('stopclock_mails_failed_total')})", "failed"),
                        Query(f"sum({per_hour('stopclock_mails_dead_total')})", "dead"),
                    ),
                    "Sent, failed attempts (retried) and dead mails (never delivered).",
                ),
                (
                    "Event to SMTP, p95 by kind",
                    12,
                    SECONDS,
                    Query(
                        quantile(0.95, "stopclock_mail_end_to_end_seconds", by="kind, le"),
                        "{{kind}}",
                    ),
                    "From the time of the event that caused a mail to the SMTP server"
                    " accepting it.",
                ),
            ),
        ),
    )


def service_rows() -> tuple[Row, ...]:
    """RED of one service (the `service` variable): HTTP, consumers, outbox, timers."""
    svc = 'service="$service"'
    requests = f"stopclock_http_requests_total{{{svc}}}"
    errors = f'stopclock_http_requests_total{{{svc}, status=~"5.."}}'
    client_errors = f'stopclock_http_requests_total{{{svc}, status=~"4.."}}'
    error_ratio = f"sum({rate(errors)}) / sum({rate(requests)})"
    lag = f"stopclock_consumer_lag_messages{{{svc}}}"
    return (
        Row(
            "Health",
            (
                (
                    "Ready replicas",
                    6,
                    UP,
                    f"sum(stopclock_ready{{{svc}}})",
                    "Replicas whose /readyz answers 200 (database and Kafka reachable).",
                ),
                (
                    "Scraped replicas up",
                    6,
                    UP,
                    f"sum(up{{{svc}}})",
                    "Replicas Prometheus could scrape at the last attempt.",
                ),
                (
                    "Requests per second",
                    6,
                    Look("stat", "reqps"),
                    f"sum({rate(requests)})",
                    "All routes.",
                ),
                (
                    "Server errors",
                    6,
                    Look(
                        "stat",
                        "percentunit",
                        thresholds=steps("green", (0.01, "orange"), (0.05, "red")),
                    ),
                    error_ratio,
                    "Share of requests answered 5xx.",
                ),
            ),
        ),
        Row(
            "HTTP",
            (
                (
                    "Requests by route",
                    8,
                    Look(unit="reqps"),
                    split("route", rate(requests)),
                    "Rate of requests by route template.",
                ),
                (
                    "Error ratio",
                    8,
                    Look(unit="percentunit", thresholds=steps("green", (0.05, "red")), min=0),
                    (
                        Query(error_ratio, "5xx"),
                        Query(f"sum({rate(client_errors)}) / sum({rate(requests)})", "4xx"),
                    ),
                    "Share of requests answered 5xx (bugs, broken dependencies) and 4xx"
                    " (bad input, auth).",
                ),
                (
                    "Latency",
                    8,
                    SECONDS,
                    percentiles("stopclock_http_request_duration_seconds", (0.5, 0.95, 0.99), svc),
                    "Time to answer, all routes.",
                ),
            ),
        ),
        Row(
            "Kafka consumers",
            (
                (
                    "Messages by topic and outcome",
                    12,
                    Look(unit="ops", stacked=True),
                    split(
                        "topic, outcome",
                        rate(f"stopclock_consumer_messages_total{{{svc}}}"),
                        "{{topic}} {{outcome}}",
                    ),
                    "applied, duplicate (already processed), ignored (unknown type), dlq and"
                    " error (retried).",
                ),
                (
                    "Processing time p95 by topic",
                    12,
                    SECONDS,
                    Query(
                        quantile(
                            0.95, "stopclock_consumer_processing_seconds", svc, by="topic, le"
                        ),
                        "{{topic}}",
                    ),
                    "Decode, apply and commit one message.",
                ),
                (
                    "Lag by topic",
                    8,
                    LINES,
                    split("topic", lag),
                    "Messages not yet processed, summed over partitions.",
                ),
                (
                    "Lag of the most behind partition",
                    8,
                    LINES,
                    Query(f"max by (topic) ({lag})", "{{topic}}"),
                    "One partition far behind the others points at a message that keeps failing.",
                ),
                (
                    "Dead-lettered messages",
                    8,
                    Look(thresholds=steps("green", (1, "red"))),
                    split(
                        "topic",
                        f"increase(stopclock_dlq_messages_total{{{svc}}}[$__rate_interval])",
                    ),
                    "Messages sent to <topic>.dlq, by source topic.",
                ),
            ),
        ),
        Row(
            "Outbox",
            (
                (
                    "Unsent rows",
                    12,
                    LINES,
                    Query(f"sum(stopclock_outbox_backlog_rows{{{svc}}})", "rows"),
                    "Outbox rows waiting for the relay.",
                ),
                (
                    "Oldest unsent row",
                    12,
                    Look(unit="s", thresholds=steps("green", (60, "red"))),
                    Query(f"max(stopclock_outbox_oldest_unsent_age_seconds{{{svc}}})", "age"),
                    "The alert fires above 60 s.",
                ),
                (
                    "Published per second by topic",
                    12,
                    Look(unit="ops"),
                    split("topic", rate(f"stopclock_outbox_published_total{{{svc}}}")),
                    "Outbox rows acknowledged by the broker.",
                ),
                (
                    "Commit to broker ack",
                    12,
                    SECONDS,
                    percentiles("stopclock_outbox_publish_latency_seconds", (0.5, 0.99), svc),
                    "From the transaction that wrote an event to Kafka's acknowledgement.",
                ),
            ),
        ),
        Row(
            "Timers (sla and escalation services)",
            (
                (
                    "SLA timer lag",
                    8,
                    Look(unit="s", thresholds=steps("green", (1, "red"))),
                    percentiles("stopclock_sla_timer_lag_seconds", (0.5, 0.99)),
                    "Fired minus due; the alert fires when p99 stays above 1 s.",
                ),
                (
                    "Escalation timer lag",
                    8,
                    SECONDS,
                    percentiles("stopclock_escalation_timer_lag_seconds", (0.5, 0.99)),
                    "Reminders and escalations: fired minus due.",
                ),
                (
                    "SLA timers scheduled",
                    8,
                    LINES,
                    split("instance", "stopclock_sla_timers_scheduled"),
                    "Timers held in memory, by replica.",
                ),
            ),
        ),
    )


def queries_of(queries: Queries) -> tuple[Query, ...]:
    """The targets of a panel row's queries cell."""
    if isinstance(queries, str):
        return (Query(queries),)
    if isinstance(queries, Query):
        return (queries,)
    return queries


def panel_json(panel: PanelRow, panel_id: int, x: int, y: int) -> Json:
    """The Grafana JSON of one panel row at grid position (x, y)."""
    title, width, look, queries, description = panel
    instant = look.kind != "timeseries"
    defaults: Json = {
        "unit": look.unit,
        "color": {"mode": "thresholds" if instant else "palette-classic"},
        "thresholds": {
            "mode": "absolute",
            "steps": [{"color": t.color, "value": t.value} for t in look.thresholds],
        },
    }
    if look.min is not None:
        defaults["min"] = look.min
    if look.max is not None:
        defaults["max"] = look.max
    reduce = {"calcs": ["lastNotNull"], "fields": "", "values": False}
    options: Json
    if look.kind == "timeseries":
        defaults["custom"] = {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 30 if look.stacked else 10,
            "showPoints": "never",
            "spanNulls": False,
            "stacking": {"group": "A", "mode": "normal" if look.stacked else "none"},
            "thresholdsStyle": {"mode": "line" if len(look.thresholds) > 1 else "off"},
        }
        options = {
            "legend": {
                "calcs": [],
                "displayMode": "list",
                "placement": "bottom",
                "showLegend": True,
            },
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
    elif look.kind == "stat":
        options = {
            "reduceOptions": reduce,
            "colorMode": "value",
            "graphMode": "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": "auto",
            "wideLayout": True,
            "showPercentChange": False,
        }
    elif look.kind == "bargauge":
        options = {
            "reduceOptions": reduce,
            "displayMode": "gradient",
            "orientation": "horizontal",
            "showUnfilled": True,
            "valueMode": "color",
            "namePlacement": "auto",
            "sizing": "auto",
            "minVizHeight": 16,
            "minVizWidth": 8,
            "maxVizHeight": 300,
        }
    else:
        raise ValueError(f"unknown panel kind {look.kind!r}")
    return {
        "id": panel_id,
        "type": look.kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": {"h": PANEL_HEIGHT, "w": width, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
        "targets": [
            {
                "datasource": DATASOURCE,
                "editorMode": "code",
                "expr": query.expr,
                "instant": instant,
                "range": not instant,
                "legendFormat": query.legend or "__auto",
                "refId": chr(ord("A") + index),
            }
            for index, query in enumerate(queries_of(queries))
        ],
    }


def layout(rows: Sequence[Row]) -> list[Json]:
    """Row headers and panels with ids and grid positions, top to bottom."""
    panels: list[Json] = []
    y = 0
    next_id = 1
    for row in rows:
        panels.append(
            {
                "id": next_id,
                "type": "row",
                "title": row.title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y},
                "panels": [],
            }
        )
        next_id += 1
        y += 1
        x = 0
        line_height = 0
        for panel in row.panels:
            width = panel[1]  # the width column of the panel row
            if x + width > GRID_WIDTH:
                y += line_height
                x, line_height = 0, 0
            panels.append(panel_json(panel, next_id, x, y))
            next_id += 1
            x += width
            line_height = max(line_height, PANEL_HEIGHT)
        y += line_height
    return panels


def datasource_variable() -> Json:
    """The `datasource` variable every panel uses; defaults to the provisioned Prometheus."""
    return {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {"text": "Prometheus", "value": "prometheus"},
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "options": [],
        "refresh": 1,
        "regex": "",
        "skipUrlSync": False,
    }


def service_variable() -> Json:
    """The `service` variable of the RED dashboard."""
    # A fixed list rather than a label_values() query: the five services are the contract.
    return {
        "name": "service",
        "label": "Service",
        "type": "custom",
        "query": ",".join(SERVICES),
        "current": {"text": SERVICES[0], "value": SERVICES[0]},
        "options": [
            {"selected": name == SERVICES[0], "text": name, "value": name} for name in SERVICES
        ],
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "skipUrlSync": False,
    }


def dashboard(
    uid: str, title: str, description: str, rows: Sequence[Row], variables: Sequence[Json]
) -> Json:
    """A whole dashboard in Grafana's classic JSON model at SCHEMA_VERSION."""
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["stopclock"],
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [
            {
                "title": "Stopclock dashboards",
                "type": "dashboards",
                "tags": ["stopclock"],
                "asDropdown": True,
                "includeVars": False,
                "keepTime": True,
                "icon": "external link",
                "targetBlank": False,
                "tooltip": "",
                "url": "",
            }
        ],
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "panels": layout(rows),
        "refresh": "30s",
        "schemaVersion": SCHEMA_VERSION,
        "templating": {"list": list(variables)},
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "version": 1,
        "weekStart": "",
    }


def dashboards() -> dict[str, Json]:
    """File name -> dashboard, for every dashboard Stopclock ships."""
    return {
        "stopclock-overview.json": dashboard(
            "stopclock-overview",
            "Stopclock / Desk overview",
            "Open tickets, SLA clocks and breaches, chasing of requesters, satisfaction, mail.",
            overview_rows(),
            [datasource_variable()],
        ),
        "stopclock-service.json": dashboard(
            "stopclock-service",
            "Stopclock / Service RED",
            "Rate, errors and duration of one service, its Kafka consumers and its outbox.",
            service_rows(),
            [datasource_variable(), service_variable()],
        ),
    }


def render(board: Json) -> str:
    """The file content of a dashboard: stable, indented JSON."""
    return json.dumps(board, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or with --check, compare) every dashboard file; the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    stale: list[str] = []
    for name, board in dashboards().items():
        path = DASHBOARD_DIR / name
        text = render(board)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"out of date, run python {Path(__file__).name}: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
