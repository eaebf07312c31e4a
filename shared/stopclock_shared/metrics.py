"""Prometheus metrics common to every service (catalogue: docs/metrics.md).

Names follow Prometheus conventions: ``stopclock_`` prefix, base units, ``_total`` counters.
No ticket ids in labels.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from .asgi import ASGIApp, HttpMiddleware, Scope

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


def latency_histogram(name: str, documentation: str, labels: Sequence[str] = ()) -> Histogram:
    """A duration histogram (seconds) on the common buckets, 1 ms to 10 s."""
    return Histogram(name, documentation, labels, buckets=LATENCY_BUCKETS)


# Label sets shared by the metrics below: dashboards and alerts join them on these labels, so
# they are one definition, not a list retyped per metric.
BY_SERVICE = ("service",)
BY_ROUTE = (*BY_SERVICE, "method", "route")
BY_TOPIC = (*BY_SERVICE, "topic")

HTTP_REQUESTS = Counter("stopclock_http_requests_total", "HTTP requests", [*BY_ROUTE, "status"])
HTTP_DURATION = latency_histogram(
    "stopclock_http_request_duration_seconds",
    "HTTP request duration",
    BY_ROUTE,
)
CONSUMER_MESSAGES = Counter(
    "stopclock_consumer_messages_total",
    "Consumed messages by outcome (applied, duplicate, ignored, dlq, error)",
    [*BY_TOPIC, "outcome"],
)
CONSUMER_PROCESSING = latency_histogram(
    "stopclock_consumer_processing_seconds",
    "Time to apply one consumed message",
    BY_TOPIC,
)
CONSUMER_LAG = Gauge(
    "stopclock_consumer_lag_messages",
    "Messages not yet consumed (high watermark - position)",
    [*BY_TOPIC, "partition"],
)
CONSUMER_ASSIGNED = Gauge(
    "stopclock_consumer_assigned_partitions",
    "Partitions of a topic assigned to this replica (replicas of a group share them)",
    BY_TOPIC,
)
DLQ_MESSAGES = Counter(
    "stopclock_dlq_messages_total", "Messages sent to a dead-letter topic", BY_TOPIC
)
OUTBOX_BACKLOG = Gauge("stopclock_outbox_backlog_rows", "Unpublished outbox rows", BY_SERVICE)
OUTBOX_OLDEST_AGE = Gauge(
    "stopclock_outbox_oldest_unsent_age_seconds", "Age of the oldest unpublished row", BY_SERVICE
)
OUTBOX_PUBLISHED = Counter("stopclock_outbox_published_total", "Outbox rows published", BY_TOPIC)
OUTBOX_LATENCY = latency_histogram(
    "stopclock_outbox_publish_latency_seconds",
    "From the row's commit to the broker's ack",
    BY_SERVICE,
)
READY = Gauge(
    "stopclock_ready", "1 when the service's database and Kafka are reachable", BY_SERVICE
)


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class HttpMetricsMiddleware(HttpMiddleware):
    """Pure ASGI middleware recording rate, errors and latency by route template."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        super().__init__(app)
        self.service = service

    async def http(self, scope: Scope, receive: Any, send: Any) -> None:
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            HTTP_REQUESTS.labels(self.service, method, path, str(status)).inc()
            HTTP_DURATION.labels(self.service, method, path).observe(time.perf_counter() - start)


def route_of(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", "unmatched")
