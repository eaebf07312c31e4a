"""Who listens on a TCP port (from /proc, no lsof or ss needed), and waiting for ports."""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

_LISTEN = "0A"
# Never go through a proxy from the environment: every address we probe is loopback.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def parse_listen_inodes(proc_net_tcp: str, port: int) -> set[int]:
    """Socket inodes in LISTEN state on ``port``, from the text of /proc/net/tcp{,6}."""
    inodes: set[int] = set()
    for line in proc_net_tcp.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != _LISTEN:
            continue
        local_port = int(fields[1].rpartition(":")[2], 16)
        if local_port == port:
            inodes.add(int(fields[9]))
    return inodes


def listeners(port: int) -> list[int]:
    """Pids of the processes holding a listening TCP socket on ``port`` (any address)."""
    inodes: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            inodes |= parse_listen_inodes(Path(table).read_text(), port)
        except OSError:
            continue
    if not inodes:
        return []
    wanted = {f"socket:[{inode}]" for inode in inodes}
    pids: list[int] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fds = os.scandir(f"/proc/{entry.name}/fd")
        except OSError:
            continue
        with fds:
            for fd in fds:
                try:
                    if os.readlink(fd.path) in wanted:
                        pids.append(int(entry.name))
                        break
                except OSError:
                    continue
    return pids


def is_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status of a GET on ``url``, or None when nothing answers."""
    try:
        with _opener.open(url, timeout=timeout) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, ValueError):
        return None


def wait_open(host: str, port: int, timeout: float) -> bool:
    """Poll until ``host:port`` accepts connections; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_open(host, port):
            return True
        time.sleep(0.2)
    return False
