"""Where the CPU goes: milliseconds of CPU each part of the stack spends per ticket opened.

Opens tickets through the API at a fixed, modest pace (open loop, well under saturation),
then waits until the stack is idle again, so that every consequence of every ticket (SLA
clock, confirmation mail, escalation snapshot, survey bookkeeping, Kafka, PostgreSQL, the
mail catcher) is inside the window. Each part's CPU time comes from ``/proc/<pid>/stat``
(PostgreSQL counted with all its backends), minus what the part burns when idle. The sum
gives the machine's ceiling: ``cores * 1000 / total_ms`` tickets per second, whatever the
latency goal. The load generator's own CPU is shown apart: it is not part of the stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path

import httpx

from stopclock_shared.testing.factories import put_person
from stopclock_shared.testing.processes import cpu_seconds
from stopclock_shared.testing.stack import Stack, unique

from .load import LoadClient, incident
from .report import write

RATE = float(os.environ.get("BENCH_CPU_RATE", "40"))
SECONDS = float(os.environ.get("BENCH_CPU_SECONDS", "20"))
# The same load first, unmeasured: a JVM that just started spends its first minute compiling.
WARM_UP_SECONDS = float(os.environ.get("BENCH_CPU_WARM_UP_SECONDS", "15"))
PARTS = [
    "ticket",
    "sla",
    "notification",
    "escalation",
    "survey",
    "kafka",
    "postgres",
    "mailcatcher",
    "prometheus",
]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


class Parts:
    """The stack's processes by part, from the pid files `make run` writes."""

    def __init__(self, run_dir: Path) -> None:
        self.pids: dict[str, int] = {}
        for part in PARTS:
            pid_file = run_dir / f"{part}.pid"
            if pid_file.exists():
                self.pids[part] = int(pid_file.read_text().split()[0])

    def sample(self) -> dict[str, float]:
        """CPU seconds so far of each part, descendants included (PostgreSQL's backends)."""
        tree = _children()
        out: dict[str, float] = {}
        for part, pid in self.pids.items():
            total, todo = 0.0, [pid]
            while todo:
                current = todo.pop()
                with contextlib.suppress(OSError):  # a backend that just ended
                    total += cpu_seconds(current)
                todo.extend(tree.get(current, []))
            out[part] = total
        return out


def _delta(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: max(0.0, b[k] - a.get(k, 0.0)) for k in b}


async def _idle_rate(parts: Parts, seconds: float) -> dict[str, float]:
    start, t0 = parts.sample(), time.perf_counter()
    await asyncio.sleep(seconds)
    used = _delta(start, parts.sample())
    return {k: v / (time.perf_counter() - t0) for k, v in used.items()}


QUIET = 0.25  # cores: the whole stack at rest uses ~0.15 (polls, metrics, heartbeats)


async def _wait_idle(parts: Parts, limit: float = 180.0) -> bool:
    """Until the stack's CPU rate is at rest for three seconds in a row (False: it never was)."""
    quiet, deadline = 0, time.perf_counter() + limit
    while quiet < 3 and time.perf_counter() < deadline:
        rate = sum((await _idle_rate(parts, 1.0)).values())
        quiet = quiet + 1 if rate <= QUIET else 0
    if quiet < 3:
        print(f"cpu_budget: the stack never came to rest within {limit:.0f} s", flush=True)
    return quiet >= 3


async def main() -> None:
    stack = Stack.from_env()
    parts = Parts(stack.repo_root / ".local" / "run")
    if "ticket" not in parts.pids:
        raise RuntimeError("no pid files under .local/run: start the stack with `make run`")
    admin = stack.auth("bench-cpu-budget", "admin", "agent")
    async with (
        httpx.AsyncClient(base_url=stack.url("ticket"), timeout=30) as setup,
        LoadClient(stack.url("ticket")) as client,
    ):
        person = await put_person(setup, admin, unique("budget"))
        body = incident(person["id"], "CPU budget ticket", "Created by make bench.")
        failures = 0

        async def one() -> None:
            nonlocal failures
            status, _ = await client.post("/api/v1/tickets", body, admin)
            failures += status != 201

        async def paced(count: int) -> None:
            start, tasks = time.perf_counter(), []
            for i in range(count):
                await asyncio.sleep(max(0.0, start + i / RATE - time.perf_counter()))
                tasks.append(asyncio.create_task(one()))
            await asyncio.gather(*tasks)

        await paced(int(RATE * WARM_UP_SECONDS))
        rested = await _wait_idle(parts)
        idle = await _idle_rate(parts, 5.0)
        count = int(RATE * SECONDS)
        before, own0, t0 = parts.sample(), time.process_time(), time.perf_counter()
        await paced(count)
        generator_ms = (time.process_time() - own0) * 1000 / count
        rested = await _wait_idle(parts) and rested
        used = _delta(before, parts.sample())
        window = time.perf_counter() - t0
        # Background work that was still fading before the run must not be subtracted as
        # "idle": the lower of the rates before and after is the part's rest.
        after = await _idle_rate(parts, 5.0)
        idle = {k: min(v, after.get(k, v)) for k, v in idle.items()}
    per_ticket = {k: (v - idle.get(k, 0.0) * window) * 1000 / count for k, v in used.items()}
    total = sum(max(0.0, v) for v in per_ticket.values())
    cores = os.cpu_count() or 1
    rows: list[dict[str, object]] = [
        {"part": k, "cpu_ms_per_ticket": round(v, 2), "share": f"{max(0.0, v) / total:.0%}"}
        for k, v in sorted(per_ticket.items(), key=lambda kv: -kv[1])
    ]
    rows.append({"part": "stack total", "cpu_ms_per_ticket": round(total, 2), "share": "100%"})
    rows.append(
        {"part": "(load generator)", "cpu_ms_per_ticket": round(generator_ms, 2), "share": ""}
    )
    write(
        "cpu_budget",
        f"CPU per ticket opened, by part ({count} tickets at {RATE:.0f}/s, window {window:.0f} s)",
        rows,
        ("" if rested else "NOT AT REST before or after the run: other work is counted. ")
        + f"Errors: {failures} (warm-up included). Ceiling on {cores} cores with the stack alone: "
        f"{cores * 1000 / total:.0f} tickets/s end to end (every consequence included).",
    )
