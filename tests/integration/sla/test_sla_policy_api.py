"""Policies and calendars through the API: versions, the visible pause policy, errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sla_support import envelope, policy_body, put_policy

from stopclock_shared.events.topics import SLA_EVENTS
from stopclock_shared.testing.kafka_probe import KafkaProbe
from stopclock_shared.testing.stack import Stack, unique

OFFICE = {
    "timezone": "Europe/Paris",
    "week": {day: [["09:00", "12:00"], ["13:00", "18:00"]] for day in ("mon", "tue", "wed")},
    "holidays": {"country": "FR", "dates": ["2026-12-24"]},
}


async def test_a_policy_shows_its_pause_policy_and_a_change_adds_a_version(
    sla_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    name = unique("policy")
    body = policy_body(unique("svc"), 3600, warn_at=[0.8])
    body["pause_statuses"] = ["waiting_on_user", "assigned"]
    body["targets"]["first_response"] = {
        "seconds": 900,
        "calendar": "24x7",
        "pause_reasons": ["info_requested"],
    }
    first = await sla_api.put(f"/api/v1/sla/policies/{name}", json=body, headers=admin)
    same = await sla_api.put(f"/api/v1/sla/policies/{name}", json=body, headers=admin)
    first_order = body["order"]
    body["order"] = 5
    changed = await sla_api.put(f"/api/v1/sla/policies/{name}", json=body, headers=admin)
    requester = stack.auth(unique("person"), "requester")
    shown = await sla_api.get(f"/api/v1/sla/policies/{name}", headers=requester)
    old = await sla_api.get(f"/api/v1/sla/policies/{name}?version=1", headers=requester)

    assert (first.status_code, same.status_code, changed.status_code) == (201, 200, 200)
    assert [r.json()["version"] for r in (first, same, changed)] == [1, 1, 2]
    policy = shown.json()
    assert (policy["version"], policy["order"]) == (2, 5)
    assert old.json()["order"] == first_order
    assert policy["pause_statuses"] == ["waiting_on_user", "assigned"]
    assert policy["warn_at"] == [0.8]
    assert policy["targets"]["first_response"]["pause_reasons"] == ["info_requested"]
    assert "pause_reasons" not in policy["targets"]["resolution"]  # every reason pauses it


async def test_policies_are_listed_by_name_with_the_built_in_defaults(
    sla_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    names: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await sla_api.get("/api/v1/sla/policies", params=params, headers=admin)).json()
        names += [p["name"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert names == sorted(names)
    assert {"default-p1", "default-p2", "default-p3", "default-p4"} <= set(names)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pause_statuses": ["on_holiday"]}, "pause_statuses[0]"),
        ({"warn_at": [0.5, 1.2]}, "warn_at[1]"),
        (
            {"targets": {"resolution": {"seconds": 60, "calendar": "nowhere"}}},
            "targets.resolution.calendar",
        ),
        (
            {"targets": {"resolution": {"seconds": -5, "calendar": "24x7"}}},
            "targets.resolution.seconds",
        ),
        ({"colour": "red"}, "colour"),
        (
            {"targets": {"resolution": {"seconds": 10 * 366 * 86_400 + 1, "calendar": "24x7"}}},
            "targets.resolution.seconds",
        ),
        (
            {"targets": {"resolution": {"seconds": 1e308, "calendar": "24x7"}}},
            "targets.resolution.seconds",
        ),
        ({"order": 2**31}, "order"),
        ({"order": -(2**63)}, "order"),
        ({"match": {"priority": "P9"}}, "match.priority"),
        ({"match": {"type": ["incident"]}}, "match.type"),
    ],
)
async def test_an_invalid_policy_is_a_422_problem_naming_the_field(
    sla_api: httpx.AsyncClient, admin: dict[str, str], change: dict[str, Any], field: str
) -> None:
    body = {**policy_body(unique("svc"), 60), **change}
    response = await sla_api.put(f"/api/v1/sla/policies/{unique('bad')}", json=body, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_only_managers_and_admins_change_policies(
    sla_api: httpx.AsyncClient, stack: Stack
) -> None:
    url = f"/api/v1/sla/policies/{unique('policy')}"
    body = policy_body(unique("svc"), 60)
    agent = await sla_api.put(url, json=body, headers=stack.auth(unique("agent"), "agent"))
    anonymous = await sla_api.put(url, json=body)
    manager = await sla_api.put(url, json=body, headers=stack.auth(unique("boss"), "manager"))
    assert (agent.status_code, anonymous.status_code, manager.status_code) == (403, 401, 201)


async def test_a_calendar_put_is_versioned_and_announced_on_sla_events(
    sla_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    name = unique("office")
    async with KafkaProbe(stack.kafka, SLA_EVENTS) as probe:
        response = await sla_api.put(f"/api/v1/sla/calendars/{name}", json=OFFICE, headers=admin)
        [record] = await probe.wait_for(lambda r: r.key == name.encode(), timeout=10)
    assert response.status_code == 201
    calendar = response.json()
    assert (calendar["version"], calendar["timezone"]) == (1, "Europe/Paris")
    assert calendar["week"]["mon"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    event = envelope(record)
    assert event["type"] == "stopclock.sla.calendar_updated.v1"
    assert set(event["data"]) == {"name", "spec", "updated_at"}
    assert event["data"]["name"] == name
    assert event["data"]["spec"]["holidays"]["country"] == "FR"
    assert event["data"]["spec"]["week"] == calendar["week"]

    policy = await put_policy(
        sla_api,
        admin,
        policy_body(
            unique("svc"), 3600, targets={"resolution": {"seconds": 3600, "calendar": name}}
        ),
    )
    assert policy["targets"]["resolution"]["calendar"] == name


async def test_the_24x7_calendar_exists_and_cannot_be_replaced(
    sla_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    shown = await sla_api.get("/api/v1/sla/calendars/24x7", headers=admin)
    replaced = await sla_api.put("/api/v1/sla/calendars/24x7", json=OFFICE, headers=admin)
    assert shown.status_code == 200
    assert shown.json()["week"]["sun"] == [["00:00", "24:00"]]
    assert replaced.status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"week": {"mon": [["18:00", "08:00"]]}}, "week.mon[0]"),
        ({"week": {"someday": [["08:00", "18:00"]]}}, "week.someday"),
        ({"holidays": {"country": "XX"}}, "holidays.country"),
        ({"timezone": "Europe"}, "timezone"),  # a folder of zones, not a zone
        ({"timezone": "x" * 5000}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
    ],
)
async def test_an_invalid_calendar_is_a_422_problem_naming_the_field(
    sla_api: httpx.AsyncClient, admin: dict[str, str], change: dict[str, Any], field: str
) -> None:
    url = f"/api/v1/sla/calendars/{unique('cal')}"
    response = await sla_api.put(url, json={**OFFICE, **change}, headers=admin)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_a_forged_cursor_or_version_is_a_422(
    sla_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for url in (
        "/api/v1/sla/policies?cursor=bm90LWEtY3Vyc29y",
        "/api/v1/sla/calendars?cursor=%F0%9F%98%80",
        "/api/v1/sla/policies/default-p1?version=99999999999999999999",
    ):
        response = await sla_api.get(url, headers=admin)
        assert response.status_code == 422, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
