"""Command line: `python -m devstack COMMAND` (install, run, stop, status, test, bench, chaos)."""

from __future__ import annotations

import argparse
import sys

from .commands import COMMANDS
from .config import load
from .output import StackError

_HELP = {
    "install": "install OS packages and Kafka jars (each step skipped when done)",
    "run": "install what is missing, start everything, stay in the foreground",
    "stop": "stop a running stack and anything a crashed run left behind",
    "status": "show which parts run (pid, port, ready)",
    "test": "start the stack (or reuse a running one), run the tests, stop it",
    "bench": "start the stack (or reuse a running one), run `python -m bench`, stop it",
    "chaos": "start the stack (or reuse one), SIGKILL each part in turn under load, count",
}


def main(argv: list[str] | None = None) -> int:
    """Parse the sub-command and run it; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m devstack")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in _HELP.items():
        sub.add_parser(name, help=text)
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](load())
    except StackError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    except BrokenPipeError:  # `make status | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
