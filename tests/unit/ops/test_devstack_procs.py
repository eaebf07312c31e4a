"""`make stop` and the leftover clean-up recognise the supervisor by its command line, also one
started before it moved from stopclock_shared.localstack to devstack/, and nothing else."""

from __future__ import annotations

import pytest

from devstack import procs


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (".local/venv/bin/python -m devstack run", True),
        ("/work/main/.local/venv/bin/python -m devstack test", True),
        (".local/venv/bin/python -m stopclock_shared.localstack run", True),
        (".local/venv/bin/python -m devstack.mailcatcher --host 127.0.0.1", False),
        (".local/venv/bin/python -m stopclock_ticket", False),
        ("python -m pytest tests/unit/ops -k devstack", False),
        ("vim devstack/procs.py", False),
        ("", False),
    ],
)
def test_the_supervisor_is_told_by_the_module_it_runs(line: str, expected: bool) -> None:
    assert procs.is_supervisor(line) is expected
