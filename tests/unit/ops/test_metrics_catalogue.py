"""docs/metrics.md is the contract between the services, the alerts and the dashboards."""

from __future__ import annotations

import pytest
from ops_support import Metric, catalogue, problems_with

COMMON = {
    "stopclock_http_requests_total": {"service", "method", "route", "status"},
    "stopclock_http_request_duration_seconds": {"service", "method", "route"},
    "stopclock_consumer_messages_total": {"service", "topic", "outcome"},
    "stopclock_consumer_processing_seconds": {"service", "topic"},
    "stopclock_consumer_lag_messages": {"service", "topic", "partition"},
    "stopclock_consumer_assigned_partitions": {"service", "topic"},
    "stopclock_dlq_messages_total": {"service", "topic"},
    "stopclock_outbox_backlog_rows": {"service"},
    "stopclock_outbox_oldest_unsent_age_seconds": {"service"},
    "stopclock_outbox_published_total": {"service", "topic"},
    "stopclock_outbox_publish_latency_seconds": {"service"},
    "stopclock_ready": {"service"},
}

PER_SERVICE = {
    "stopclock_tickets_created_total": {"type", "priority"},
    "stopclock_ticket_transitions_total": {"from_status", "to_status"},
    "stopclock_tickets_open": {"status", "priority"},
    "stopclock_sla_clocks": {"state"},
    "stopclock_sla_timer_lag_seconds": set(),
    "stopclock_sla_timer_hold_seconds": set(),
    "stopclock_sla_late_facts_total": set(),
    "stopclock_sla_timers_scheduled": set(),
    "stopclock_sla_warnings_total": {"target"},
    "stopclock_sla_breaches_total": {"target", "priority"},
    "stopclock_sla_met_total": {"target"},
    "stopclock_sla_waits_total": {"reason", "question"},
    "stopclock_sla_resolution_business_seconds_total": set(),
    "stopclock_sla_resolution_paused_seconds_total": {"reason"},
    "stopclock_mails_sent_total": {"kind"},
    "stopclock_mails_failed_total": {"kind"},
    "stopclock_mails_dead_total": {"kind"},
    "stopclock_mail_send_duration_seconds": set(),
    "stopclock_mail_end_to_end_seconds": {"kind"},
    "stopclock_mails_pending": set(),
    "stopclock_mails_suppressed_total": {"kind"},
    "stopclock_inbound_mails_total": {"outcome"},
    "stopclock_inbound_duplicates_total": set(),
    "stopclock_inbound_refused_total": {"reason"},
    "stopclock_inbound_processing_seconds": set(),
    "stopclock_reminders_total": set(),
    "stopclock_manager_escalations_total": {"to"},
    "stopclock_auto_resolves_total": set(),
    "stopclock_escalation_timer_lag_seconds": set(),
    "stopclock_escalation_timers_scheduled": set(),
    "stopclock_waiting_episodes_open": set(),
    "stopclock_surveys_sent_total": set(),
    "stopclock_surveys_answered_total": {"satisfied", "after_breach"},
    "stopclock_surveys_negative_total": set(),
    "stopclock_surveys_expired_total": set(),
}


@pytest.mark.parametrize(("name", "labels"), sorted({**COMMON, **PER_SERVICE}.items()))
def test_catalogue_lists_every_decided_metric_with_its_labels(name: str, labels: set[str]) -> None:
    assert name in catalogue(), f"{name} missing from docs/metrics.md"
    assert catalogue()[name].labels == labels


def test_catalogue_lists_no_metric_beyond_the_decided_ones() -> None:
    assert set(catalogue()) == set(COMMON) | set(PER_SERVICE)


@pytest.mark.parametrize("metric", list(catalogue().values()), ids=lambda m: str(m.name))
def test_every_metric_follows_prometheus_naming(metric: Metric) -> None:
    assert metric.name.startswith("stopclock_")
    assert metric.type in {"counter", "gauge", "histogram"}
    assert metric.meaning, "say what it measures"
    # Counters end in _total and only counters do; durations are in seconds, never ms.
    assert metric.name.endswith("_total") == (metric.type == "counter")
    assert not metric.name.endswith(("_ms", "_milliseconds", "_minutes"))
    if metric.type == "histogram":
        assert metric.name.endswith("_seconds")


def test_no_metric_labels_by_ticket_or_person() -> None:
    unbounded = {"ticket_id", "id", "person_id", "requester_id", "email", "recipient", "path"}
    assert all(not (m.labels & unbounded) for m in catalogue().values())


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("sum(rate(stopclock_nonexistent_total[5m]))", "not in docs/metrics.md"),
        ('stopclock_ready{route="/x"}', "has no label route"),
        ("sum by (kind) (stopclock_reminders_total)", "groups by kind"),
        ("rate(stopclock_sla_timer_lag_seconds[5m])", "is a histogram"),
    ],
)
def test_the_catalogue_check_catches_unknown_names_and_labels(expr: str, problem: str) -> None:
    assert any(problem in found for found in problems_with(expr))


def test_the_catalogue_check_accepts_histogram_buckets_and_target_labels() -> None:
    expr = (
        "histogram_quantile(0.99, sum by (le, instance) "
        '(rate(stopclock_sla_timer_lag_seconds_bucket{service="sla"}[5m]))) > 1 and up == 1'
    )
    assert problems_with(expr) == []
