"""Progress lines and tables for people watching ``make run`` (plain stdout, flushed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class StackError(RuntimeError):
    """A part of the stack could not be installed, started or stopped; the message says why."""


def say(message: str) -> None:
    """Print one progress line, flushed at once so CI logs show it in order."""
    print(f"==> {message}", flush=True)


def detail(message: str) -> None:
    """Print an indented line under the last progress line."""
    print(f"    {message}", flush=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned text table, columns as wide as their widest cell."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file ('' when it does not exist)."""
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])
