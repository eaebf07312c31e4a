"""The pause audit use case on the fake repository: who may read it, which clocks it counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sla_edge_builders import created, status_changed
from sla_fakes import FakeSlaRepository, unit_of_work

from stopclock_shared.auth import Principal, Role
from stopclock_shared.errors import Forbidden, Invalid
from stopclock_shared.events.envelope import Envelope
from stopclock_sla import use_cases
from stopclock_sla.use_cases import TicketEvent
from stopclock_sla.version_cache import VersionCache

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)
NOW = T0 + 10 * HOUR
MANAGER = Principal("boss", frozenset({Role.MANAGER}))


async def desk_with_a_wait(service: str = "vpn") -> tuple[VersionCache, FakeSlaRepository]:
    """One ticket started at T0, waiting on its requester from T0 + 1 h to T0 + 3 h."""
    uow, cache = unit_of_work(), VersionCache()
    await use_cases.seed_defaults(uow, T0, default_policies=True)
    steps: list[tuple[Envelope, TicketEvent]] = [
        created(T0, service=service),
        status_changed(T0 + HOUR, 2, "waiting_on_user", "info_requested"),
        status_changed(T0 + 3 * HOUR, 3, "in_progress"),
    ]
    for env, event in steps:
        await use_cases.apply_ticket_event(uow, cache, env, event, 0, env.time)
    return cache, uow.repo


async def report(
    who: Principal,
    start: datetime | None = None,
    end: datetime | None = None,
    service: str | None = None,
) -> dict[str, object]:
    cache, repo = await desk_with_a_wait()
    uow = unit_of_work(repo)
    return await use_cases.pause_report(uow, cache, who, start, end, service, NOW)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
async def test_managers_and_admins_read_the_audit(role: Role) -> None:
    body = await report(Principal("x", frozenset({role})), T0, NOW)
    assert body["clocks"] == 1
    assert body["paused_seconds"] == 2 * 3600
    assert body["business_seconds"] == 10 * 3600
    assert body["by_reason"] == {"info_requested": 2 * 3600}


@pytest.mark.parametrize("role", [Role.AGENT, Role.REQUESTER, Role.SERVICE])
async def test_nobody_else_reads_the_audit(role: Role) -> None:
    with pytest.raises(Forbidden, match="needs one of the roles: admin, manager"):
        await report(Principal("x", frozenset({role})))


async def test_the_window_defaults_to_the_30_days_before_now() -> None:
    assert (await report(MANAGER))["clocks"] == 1


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(T0 + HOUR, NOW, id="started-before-the-window"),
        pytest.param(T0 - 2 * HOUR, T0, id="window-ends-at-the-start"),
    ],
)
async def test_only_clocks_started_in_the_window_count(start: datetime, end: datetime) -> None:
    assert (await report(MANAGER, start, end))["clocks"] == 0


async def test_a_service_filter_keeps_that_service_only() -> None:
    assert (await report(MANAGER, T0, NOW, "vpn"))["clocks"] == 1
    assert (await report(MANAGER, T0, NOW, "mail"))["clocks"] == 0


async def test_a_bad_window_is_refused_before_anything_is_read() -> None:
    with pytest.raises(Invalid) as caught:
        await report(MANAGER, NOW, T0)
    assert [e.field for e in caught.value.errors] == ["to"]
