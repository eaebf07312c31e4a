"""The Dockerfile: multi-stage, slim Python 3.11 base, non-root, health-checked, lean."""

from __future__ import annotations

import re

from ops_support import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
DEV_TOOLS = {"mypy", "ruff", "pytest", "pytest-asyncio", "hypothesis"}


def stages() -> list[list[str]]:
    """Instruction lines (continuations joined) grouped by FROM."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [line.strip() for line in joined.splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    grouped: list[list[str]] = []
    for line in instructions:
        if line.startswith("FROM "):
            grouped.append([])
        if grouped:
            grouped[-1].append(line)
    return grouped


def test_the_image_is_built_in_stages_from_slim_python_311() -> None:
    assert len(stages()) >= 2
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.MULTILINE)
    assert base
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", base[1])
    assert all(stage[0].startswith("FROM ${PYTHON_IMAGE}") for stage in stages())


def test_the_final_stage_runs_as_a_numeric_non_root_user() -> None:
    users = [line.split()[1] for line in stages()[-1] if line.startswith("USER ")]
    assert users, "the runtime stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit()
    assert int(uid) != 0


def test_the_final_stage_copies_only_the_built_environment_and_migrations() -> None:
    copies = [line for line in stages()[-1] if line.startswith("COPY ")]
    assert copies
    assert all(line.startswith("COPY --from=build ") for line in copies)


def test_the_container_health_is_its_healthz_endpoint() -> None:
    (check,) = [line for line in stages()[-1] if line.startswith("HEALTHCHECK ")]
    assert "/healthz" in check
    assert "STOPCLOCK_SERVICE_PORT" in check


def test_the_runtime_leaves_out_the_test_and_lint_tools_but_keeps_the_services_needs() -> None:
    pattern = re.search(r"grep -viE '([^']+)' requirements.txt", DOCKERFILE)
    assert pattern, "the Dockerfile no longer filters requirements.txt"
    excluded = re.compile(pattern[1], re.IGNORECASE)
    requirements = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pins = [line for line in requirements if line and not line.startswith("#")]
    kept = {re.split(r"[=<>\[]", line)[0].lower() for line in pins if not excluded.search(line)}
    assert not kept & DEV_TOOLS
    # A new test tool in requirements.txt must be added to the Dockerfile's filter too.
    assert not {name for name in kept if name.startswith(("pytest", "mypy", "ruff"))}
    assert {"fastapi", "uvicorn", "aiokafka", "asyncpg", "prometheus_client"} <= kept


def test_every_copied_source_exists_and_the_context_leaves_out_local_state() -> None:
    sources = re.findall(r"^COPY (?!--from)(\S+)", DOCKERFILE, re.MULTILINE)
    assert sources
    assert all((REPO / source).exists() for source in sources)
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert {".git", ".local", "tests", "**/__pycache__"} <= set(ignored)
    assert not {"shared", "services", "requirements.txt"} & set(ignored)
