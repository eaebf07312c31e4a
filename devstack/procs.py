"""Child processes: spawn with a log file, pid files, "is this ours?", and stopping.

Every child runs in its own session, so a Ctrl-C in the terminal reaches only the supervisor,
which then stops the parts in order. Each child also asks the kernel for SIGTERM when the
supervisor dies (PR_SET_PDEATHSIG): a `kill -9` of the supervisor does not leave the stack
running, and whatever is slow to exit is cleaned up by the next `run` or by `stop`.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .config import MARKER_ENV, StackConfig
from .output import StackError, tail

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent(parent: int) -> None:
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    # The parent may have died between fork and prctl: then nobody will send the signal.
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str],
    cwd: Path,
    user: str | None = None,
    die_with_parent: bool = True,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session with stdout and stderr appended to ``log_path``.

    ``user`` runs it as another OS user (PostgreSQL refuses to run as root).
    ``die_with_parent`` has the kernel send it SIGTERM when the calling process dies.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    parent = os.getpid()
    with log_path.open("ab") as log:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        log.write(f"\n===== {stamp} started: {' '.join(argv)}\n".encode())
        log.flush()
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            preexec_fn=(lambda: _die_with_parent(parent)) if die_with_parent else None,
            user=user,
            group=user,
            extra_groups=[] if user else None,
        )


# -- pid files -------------------------------------------------------------------------------
def write_pid(path: Path, pid: int) -> None:
    """Write a pid file atomically (readers never see a half-written number)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{pid}\n")
    tmp.replace(path)


def read_pid(path: Path) -> int | None:
    """The pid in ``path``, or None when the file is missing or garbled."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def remove_pid(path: Path, pid: int | None = None) -> None:
    """Remove a pid file, but only if it still names ``pid`` (when given)."""
    if pid is not None and read_pid(path) != pid:
        return
    path.unlink(missing_ok=True)


# -- inspecting processes --------------------------------------------------------------------
def is_alive(pid: int) -> bool:
    """True when ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state letter follows the command name, which is in parentheses and may hold spaces.
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def cmdline(pid: int) -> str:
    """The command line of ``pid``, arguments joined by spaces ('' if it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()


# The supervisor's module as `ps` shows it (`python -m devstack run`). The second name is where
# it lived before it moved out of stopclock_shared: a stack started by that code is still ours.
SUPERVISOR_MODULES = ("devstack", "stopclock_shared.localstack")


def is_supervisor(line: str) -> bool:
    """True when the command line ``line`` (see ``cmdline``) runs the stack supervisor."""
    return any(
        flag == "-m" and module in SUPERVISOR_MODULES
        for flag, module in itertools.pairwise(line.split())
    )


def _environ_has(pid: int, entry: bytes) -> bool:
    try:
        return entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def _cwd(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return ""


def is_ours(pid: int, config: StackConfig, *, strict: bool = False) -> bool:
    """True when ``pid`` was started by this repository's stack (never anyone else's).

    Every process the stack spawns carries ``MARKER_ENV``; ``strict`` accepts only that. The
    loose check (for pids read from our own pid files) also accepts a command line naming
    the repository, which is what a process started by an older supervisor looks like.
    """
    if pid == os.getpid() or not is_alive(pid):
        return False
    if _environ_has(pid, f"{MARKER_ENV}={config.repo_root}".encode()):
        return True
    if strict:
        return False
    line = cmdline(pid)
    if f"{config.repo_root}/" in line or f"{config.pg_fallback_dir}" in line:
        return True
    # The supervisor itself: started from the repo root with a relative venv path.
    return is_supervisor(line) and _cwd(pid) == str(config.repo_root)


def stack_root_of(pid: int) -> str | None:
    """The repository whose stack started ``pid`` (from its environment), if any."""
    try:
        entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    prefix = f"{MARKER_ENV}=".encode()
    for entry in entries:
        if entry.startswith(prefix):
            return entry[len(prefix) :].decode("utf-8", "replace")
    return None


def describe(pid: int) -> str:
    """`pid 123 (user: cmdline)` for error messages, naming the stack that started it."""
    try:
        uid = os.stat(f"/proc/{pid}").st_uid
        user = pwd.getpwuid(uid).pw_name
    except (OSError, KeyError):
        user = "?"
    root = stack_root_of(pid)
    owner = f", started by the stack of {root}" if root else ""
    return f"pid {pid} ({user}: {cmdline(pid)[:120]}{owner})"


# -- stopping --------------------------------------------------------------------------------
def _send(pid: int, sig: int, group: bool) -> None:
    if group:
        try:
            os.killpg(pid, sig)
            return
        except (ProcessLookupError, PermissionError):
            pass  # not a group leader (e.g. a leftover found by its port): signal it alone
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _signal(pid: int, sig: int, group: bool) -> None:
    _send(pid, sig, group)
    # A stopped process (a test may SIGSTOP the mail catcher) acts on SIGTERM only once
    # continued.
    if sig != signal.SIGKILL:
        _send(pid, signal.SIGCONT, group)


def wait_started(
    part: str,
    proc: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    log_path: Path,
    timeout: float,
    poll: float,
) -> None:
    """Block until ``ready()``; raise with the log's tail if the process exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StackError(f"{part} exited with code {proc.returncode}:\n" + tail(log_path))
        if ready():
            return
        time.sleep(poll)
    raise StackError(f"{part} not ready after {timeout:.0f} s; see {log_path}")


def wait_gone(pid: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> bool:
    """Wait until ``pid`` has exited (reaping it if it is our child); True if it did."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            return True
        if proc is None and not is_alive(pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def terminate(
    pid: int,
    *,
    timeout: float,
    sig: int = signal.SIGTERM,
    proc: subprocess.Popen[bytes] | None = None,
    group: bool = True,
) -> bool:
    """Send ``sig`` (to the process group when ``group``), wait, then SIGKILL.

    Returns True when the process stopped within ``timeout`` without SIGKILL.
    """
    if (proc is not None and proc.poll() is not None) or not is_alive(pid):
        return True
    _signal(pid, sig, group)
    if wait_gone(pid, timeout, proc):
        return True
    _signal(pid, signal.SIGKILL, group)
    wait_gone(pid, 5, proc)
    return False


def run_quiet(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
    input_text: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run a short command to completion, capturing its output as text."""
    return subprocess.run(
        list(argv),
        env=None if env is None else dict(env),
        cwd=cwd,
        user=user,
        group=user,
        extra_groups=[] if user else None,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
