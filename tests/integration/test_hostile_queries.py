"""Hostile queries to every service's lists and reports answer a 4xx problem, never a 500:
dates beyond what PostgreSQL or Python hold, forged cursors, ids beyond bigint, NUL bytes,
absurd limits, path ids longer than their column (issue 12)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from stopclock_shared.testing.stack import Stack


def forged(created: str, ident: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([created, ident]).encode()).decode().rstrip("=")


CASES = [
    ("survey", "/api/v1/surveys/stats?from=0001-01-01T00:00:00%2B14:00"),
    ("survey", "/api/v1/surveys/stats?from=9999-12-31T23:59:59-14:00"),
    ("survey", "/api/v1/surveys/stats?to=9999-12-31T23:59:59-14:00"),
    ("survey", "/api/v1/surveys?ticket_id=a%00b"),
    ("escalation", "/api/v1/escalations?cursor=" + forged("2026-01-01T00:00:00Z", "9" * 30)),
    ("escalation", "/api/v1/escalations?cursor=" + forged("9999-12-31T23:59:59-14:00", "1")),
    ("escalation", "/api/v1/escalation/policies?cursor=" + forged("x", "1")),
    ("escalation", "/api/v1/people/" + "p" * 5000 + "/responsiveness"),
    ("notification", "/api/v1/notifications?cursor=" + forged("0001-01-01T00:00:00+14:00", "1")),
    ("notification", "/api/v1/notifications?recipient=a%00b"),
    ("notification", "/api/v1/inbound?limit=100000000000000000000"),
    ("notification", "/api/v1/inbound?cursor=%F0%9F%98%80"),
    ("ticket", "/api/v1/tickets?cursor=" + forged("0001-01-01T00:00:00+14:00", "x")),
    ("ticket", "/api/v1/tickets?priority=P1&limit=-1"),
    ("sla", "/api/v1/sla/reports/pauses?from=0001-01-01T00:00:00%2B14:00"),
    ("sla", "/api/v1/sla/reports/pauses?to=9999-12-31T23:59:59-14:00"),
    ("sla", "/api/v1/sla/reports/pauses?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z"),
    ("sla", "/api/v1/sla/reports/pauses?service=a%00b"),
    ("sla", "/api/v1/sla/reports/pauses?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z"),
]


@pytest.mark.parametrize(("service", "url"), CASES)
async def test_a_hostile_query_is_a_4xx_problem(stack: Stack, service: str, url: str) -> None:
    headers = stack.auth("hostile-admin", "admin", "manager", "agent")
    async with httpx.AsyncClient(base_url=stack.url(service), timeout=15) as client:
        response = await client.get(url, headers=headers)
    assert 400 <= response.status_code < 500, (url, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
