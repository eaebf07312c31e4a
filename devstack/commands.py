"""The sub-commands behind `make install|run|stop|status|test|bench`. Each returns an exit code."""

from __future__ import annotations

import fcntl
import os
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from . import leftovers, procs, status
from .config import MARKER_ENV, StackConfig
from .install import install
from .output import StackError, detail, say
from .stack import Stack, StopRequested, acquire, handle_stop_signals, is_locked, read_state

_NO_TESTS_COLLECTED = 5
# A supervisor stopping in order needs Kafka's 20 s grace plus the services' 15 s, and more.
STOP_WAIT = 90.0
# How long `test` waits for another supervisor's stack to become ready before giving up.
REUSE_WAIT = 300.0
# How long the owner of a test stack waits for other test runs still using it.
SHARED_USE_WAIT = 1200.0


def cmd_install(config: StackConfig) -> int:
    install(config)
    return 0


def _print_ready(config: StackConfig, stack: Stack) -> None:
    print(status.render(config), flush=True)
    say(f"stack ready: started in {stack.start_seconds:.1f} s")


def cmd_run(config: StackConfig) -> int:
    """Install what is missing, start everything, stay in the foreground until stopped."""
    lock = acquire(config)
    if lock is None:
        pid = procs.read_pid(config.run_dir / "stack.pid")
        say(f"a stack of this repository is already running (supervisor pid {pid}).")
        detail("`make stop` stops it; `make test` reuses it.")
        return 1
    stack = Stack(config, os.environ)
    code = 0
    try:
        handle_stop_signals()
        install(config)
        stack.start()
        _print_ready(config, stack)
        say("running; Ctrl-C here or `make stop` elsewhere stops everything")
        say("a part that dies is reported with its last log lines and restarted, with backoff")
        stack.watch()
    except StopRequested as signal_name:
        say(f"{signal_name} received")
    except StackError as error:
        print(f"\nerror: {error}", file=sys.stderr, flush=True)
        code = 1
    finally:
        stack.stop()
        os.close(lock)
    say("stack stopped")
    return code


def cmd_stop(config: StackConfig) -> int:
    """Stop a supervisor (if any), then anything of ours it or a crashed run left behind."""
    did = False
    pid = procs.read_pid(config.run_dir / "stack.pid")
    # The lock proves a supervisor of this repository is alive; stack.pid says which one.
    if pid is not None and is_locked(config) and procs.is_supervisor(procs.cmdline(pid)):
        say(f"stopping the supervisor (pid {pid})")
        if not procs.terminate(pid, timeout=STOP_WAIT, group=False):
            detail(f"supervisor did not stop within {STOP_WAIT:.0f} s: killed")
        did = True
    stopped = leftovers.clean(config)
    if stopped:
        say(f"stopped leftovers: {', '.join(stopped)}")
    (config.run_dir / "stack.pid").unlink(missing_ok=True)
    say("stopped" if did or stopped else "nothing was running")
    return 0


def cmd_status(config: StackConfig) -> int:
    state = read_state(config)
    supervisor = procs.read_pid(config.run_dir / "stack.pid")
    if is_locked(config):
        say(f"supervisor pid {supervisor}: {state.get('state', '?')}")
    else:
        say("no supervisor running")
    print(status.render(config), flush=True)
    return 0


# -- test and bench ------------------------------------------------------------------------
def _has_tests(dirs: list[Path]) -> bool:
    return any(
        p.name.startswith("test_") or p.name.endswith("_test.py")
        for d in dirs
        for p in d.rglob("*.py")
    )


def _child_env(config: StackConfig) -> dict[str, str]:
    env = {**os.environ, **config.test_env()}
    env.pop(MARKER_ENV, None)  # the test process is not a part of the stack
    return env


def _pytest(config: StackConfig, dirs: list[Path]) -> int:
    """Run pytest on ``dirs``; 'no tests collected' counts as success only if none exist.

    (Locally, also when PYTEST_ARGS filtered them all out; never in CI.)
    """
    if not dirs:
        return 0
    extra = shlex.split(os.environ.get("PYTEST_ARGS", ""))
    argv = [sys.executable, "-m", "pytest", *map(str, dirs), "-q", *extra]
    say(f"pytest {' '.join(str(d.relative_to(config.repo_root)) for d in dirs)} {' '.join(extra)}")
    code = subprocess.call(argv, cwd=config.repo_root, env=_child_env(config))
    if code == _NO_TESTS_COLLECTED and not _has_tests(dirs):
        detail("no tests there yet")
        return 0
    if code == _NO_TESTS_COLLECTED and extra and not config.ci:
        detail("PYTEST_ARGS selected no test here")  # a local filter, not a broken suite
        return 0
    return code


def _run_tests(config: StackConfig) -> int:
    root = config.repo_root / "tests"
    unit = [d for d in (root / "unit",) if d.is_dir()]
    code = _pytest(config, unit)
    if code != 0:
        say(f"unit tests failed (exit {code}); integration and e2e tests not run")
        return code
    code = _pytest(config, [d for d in (root / "integration", root / "e2e") if d.is_dir()])
    if code != 0:
        return code
    # Last: the fuzzer writes much odd (if valid) data that the tests above need not see.
    return _pytest(config, [d for d in (root / "fuzz",) if d.is_dir()])


def _run_bench(config: StackConfig) -> int:
    bench = config.repo_root / "bench"
    if not ((bench / "__init__.py").is_file() or (bench / "__main__.py").is_file()):
        say("no bench/ package yet: nothing to run")
        return 0
    say("python -m bench")
    return subprocess.call(
        [sys.executable, "-m", "bench"], cwd=config.repo_root, env=_child_env(config)
    )


def _wait_for_other_stack(config: StackConfig) -> bool:
    """Wait until the running supervisor says ready; False if it went away meanwhile."""
    deadline = time.monotonic() + REUSE_WAIT
    said = False
    while time.monotonic() < deadline:
        if not is_locked(config):
            return False
        state = read_state(config).get("state")
        if state == "ready":
            return True
        if state in ("stopping", "stopped"):
            time.sleep(1)
            continue
        if not said:
            say("another supervisor is starting the stack: waiting for it")
            said = True
        time.sleep(0.5)
    raise StackError(f"the running stack did not become ready within {REUSE_WAIT:.0f} s")


def _shared_use_lock(config: StackConfig, exclusive: bool) -> int:
    """Reusers hold a shared lock while they test; the owner takes it exclusively to stop."""
    config.run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(config.run_dir / "users.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    if not exclusive:
        fcntl.flock(fd, fcntl.LOCK_SH)
        return fd
    deadline = time.monotonic() + SHARED_USE_WAIT
    said = False
    while time.monotonic() < deadline:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if not said:
                say("another test run is using this stack: waiting for it before stopping")
                said = True
            time.sleep(1)
    return fd


def _keep_alive(stack: Stack, done: threading.Event) -> None:
    """Restart dead parts (with backoff) until ``done``, as `make run` does."""
    while not done.wait(1.0):
        stack.report_deaths(restart=True)
        stack.restart_due()


def with_stack(
    config: StackConfig, work: Callable[[StackConfig], int], *, restart_dead: bool = False
) -> int:
    """Run ``work`` against a ready stack: reuse a running one, else start (and stop) ours.

    ``restart_dead``: while ``work`` runs, our own stack brings dead parts back like
    `make run` does (a reused stack is its supervisor's business)."""
    handle_stop_signals()
    while True:
        lock = acquire(config)
        if lock is not None:
            break
        if _wait_for_other_stack(config):
            say("reusing the stack that is already running (it is left running)")
            users = _shared_use_lock(config, exclusive=False)
            try:
                return work(config)
            except StopRequested as signal_name:
                say(f"{signal_name} received")
                return 130
            finally:
                os.close(users)
    stack = Stack(config, os.environ)
    interrupted = False
    try:
        install(config)
        stack.start()
        _print_ready(config, stack)
        done = threading.Event()
        keeper = threading.Thread(target=_keep_alive, args=(stack, done), daemon=True)
        if restart_dead:
            keeper.start()
        try:
            code = work(config)
        finally:
            done.set()
            if keeper.is_alive():
                keeper.join()
        stack.report_deaths()
        return code
    except StopRequested as signal_name:
        say(f"{signal_name} received")
        interrupted = True
        return 130
    except StackError as error:
        print(f"\nerror: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        # Let other test runs that reuse this stack finish, unless we were told to stop now.
        owner_users = None
        if not interrupted:
            try:
                owner_users = _shared_use_lock(config, exclusive=True)
            except StopRequested:
                say("stop requested: not waiting for the other test runs")
        stack.stop()
        if owner_users is not None:
            os.close(owner_users)
        os.close(lock)


def cmd_test(config: StackConfig) -> int:
    code = with_stack(config, _run_tests)
    say(f"make test: exit {code}")
    return code


def cmd_bench(config: StackConfig) -> int:
    return with_stack(config, _run_bench)


def _run_chaos(config: StackConfig) -> int:
    say("python -m bench chaos")
    return subprocess.call(
        [sys.executable, "-m", "bench", "chaos"], cwd=config.repo_root, env=_child_env(config)
    )


def cmd_chaos(config: StackConfig) -> int:
    """SIGKILL every part in turn under load (bench/chaos.py); dead parts are brought back."""
    return with_stack(config, _run_chaos, restart_dead=True)


COMMANDS: dict[str, Callable[[StackConfig], int]] = {
    "install": cmd_install,
    "run": cmd_run,
    "stop": cmd_stop,
    "status": cmd_status,
    "test": cmd_test,
    "bench": cmd_bench,
    "chaos": cmd_chaos,
}
