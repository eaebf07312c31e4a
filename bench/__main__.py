"""``python -m bench [name ...]``: run the benchmarks (all by default) against the stack.

Each benchmark is a module ``bench/<name>.py`` with ``async def main() -> None`` that prints
its table and writes ``bench/results/<name>.md``.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import time

BENCHMARKS = [
    "cpu_budget",
    "ticket_cpu",
    "ticket_create",
    "notification_latency",
    "notification_throughput",
    "escalation_reminders",
    "sla_breach",
    "inbound_reply",
]


def run(names: list[str]) -> int:
    failed = 0
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        start = time.perf_counter()
        print(f"==> bench {name}", flush=True)
        try:
            asyncio.run(module.main())
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            failed += 1
            print(f"bench {name} failed: {type(exc).__name__}: {exc}", flush=True)
        print(f"<== bench {name} ({time.perf_counter() - start:.0f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:] or BENCHMARKS))
