"""The local SMTP catcher: every message received is stored in a Maildir.

Runs as its own process, ``python -m devstack.mailcatcher`` (``MODULE``), so that a test
can stop it (SIGSTOP, SIGKILL) to simulate an SMTP outage and start it again with ``spawn``.
Its pid is in ``.local/run/mailcatcher.pid`` (``STOPCLOCK_MAILCATCHER_PIDFILE`` in tests).
Read the mail with ``mailbox.Maildir(<repo>/.local/mail)``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from . import procs
from .config import StackConfig, load

# What follows `python -m` (run from the repository root): tests look for it in `ps` output.
MODULE = "devstack.mailcatcher"


def ensure_maildir(path: Path) -> None:
    """Create the Maildir layout; `mailbox.Maildir(create=True)` skips it for an existing dir."""
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)


def argv(config: StackConfig) -> list[str]:
    """The command line that starts the catcher for ``config``."""
    return [
        sys.executable,
        "-m",
        MODULE,
        "--host",
        config.smtp_host,
        "--port",
        str(config.smtp_port),
        "--maildir",
        str(config.mail_dir),
    ]


def spawn(
    config: StackConfig, env: dict[str, str] | None = None, *, die_with_parent: bool = False
) -> subprocess.Popen[bytes]:
    """Start the stack's catcher in the background and record its pid in the pid file.

    A test that stopped the catcher restarts it with ``spawn(load())``: by default the new
    catcher outlives the test process, and the supervisor's stop (or `make stop`) ends it.
    """
    ensure_maildir(config.mail_dir)
    proc = procs.spawn(
        argv(config),
        log_path=config.log_path("mailcatcher"),
        env=config.process_env(os.environ if env is None else env),
        cwd=config.repo_root,
        die_with_parent=die_with_parent,
    )
    procs.write_pid(config.pid_path("mailcatcher"), proc.pid)
    return proc


class RawMaildir:
    """aiosmtpd handler: each accepted message goes into the Maildir as received.

    aiosmtpd's own ``Mailbox`` handler parses every message and serialises it again, which
    costs more CPU than everything else the catcher does; on the machine it shares with the
    stack that matters. Delivery follows the Maildir rule: write into ``tmp/``, then rename
    into ``new/``, so a reader never sees half a message.
    """

    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self.host = socket.gethostname().replace("/", "\\057").replace(":", "\\072")
        self.count = itertools.count()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        trace = (
            f"X-Peer: {session.peer}\nX-MailFrom: {envelope.mail_from}\n"
            f"X-RcptTo: {', '.join(envelope.rcpt_tos)}\n"
        ).encode()
        content = envelope.original_content or envelope.content or b""
        now = time.time()
        name = f"{int(now)}.M{int(now % 1 * 1e6)}P{os.getpid()}Q{next(self.count)}.{self.host}"
        tmp = self.maildir / "tmp" / name
        tmp.write_bytes(trace + bytes(content).replace(b"\r\n", b"\n"))
        os.rename(tmp, self.maildir / "new" / name)
        return "250 Message accepted for delivery"


def serve(host: str, port: int, maildir: Path) -> None:
    """Accept SMTP on ``host:port`` until SIGTERM/SIGINT, storing each message in ``maildir``."""
    from aiosmtpd.controller import Controller

    ensure_maildir(maildir)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    controller = Controller(RawMaildir(maildir), hostname=host, port=port)
    controller.start()
    print(f"mail catcher: smtp://{host}:{port} -> Maildir {maildir}", flush=True)
    try:
        while not stopping.wait(0.5):  # short waits: signal handlers run between them
            pass
    finally:
        controller.stop()
        print("mail catcher: stopped", flush=True)


def main(args: list[str] | None = None) -> None:
    """Command-line entry point; defaults come from the stack config."""
    config = load()
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}")
    parser.add_argument("--host", default=config.smtp_host)
    parser.add_argument("--port", type=int, default=config.smtp_port)
    parser.add_argument("--maildir", type=Path, default=config.mail_dir)
    ns = parser.parse_args(args)
    serve(ns.host, ns.port, ns.maildir)


if __name__ == "__main__":
    main()
