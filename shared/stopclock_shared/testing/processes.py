"""Machine facts tests and benchmarks read: a free port, a process's CPU time, a service
process getting ready."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a live process has used so far (``/proc/<pid>/stat``);
    raises OSError when the process is gone."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # Fields after the command name (which may hold spaces) start at field 3 (state).
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _no_check() -> None:
    return None


async def wait_readyz(
    url: str, timeout: float, check_alive: Callable[[], None] = _no_check
) -> bool:
    """Poll ``url``/readyz until it answers 200 (True) or ``timeout`` passes (False);
    ``check_alive`` raises when the process behind ``url`` has died."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            check_alive()
            try:
                if (await client.get(url + "/readyz")).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
    return False
