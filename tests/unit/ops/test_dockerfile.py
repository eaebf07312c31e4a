"""The Dockerfile: multi-stage, slim Python 3.11 base, non-root, health-checked, lean (runtime
pins only: requirements.txt; the dev venv adds requirements-dev.txt)."""

from __future__ import annotations

import re

from ops_support import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
DEV_TOOLS = {"mypy", "ruff", "pytest", "pytest-asyncio", "hypothesis"}


def pins(file: str) -> list[tuple[str, str]]:
    """(lower-case name, version) of each pin in a requirements file (``-r`` lines skipped)."""
    lines = (REPO / file).read_text(encoding="utf-8").splitlines()
    found = []
    for line in lines:
        if line and not line.startswith(("#", "-")):
            name, _, version = line.partition("==")
            found.append((re.split(r"\[", name)[0].lower(), version))
    return found


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


def test_the_image_installs_the_runtime_pins_only() -> None:
    instructions = " ".join(line for stage in stages() for line in stage)
    named = set(re.findall(r"requirements[\w.-]*\.txt", instructions))
    assert named == {"requirements.txt"}
    runtime = {name for name, _ in pins("requirements.txt")}
    assert not runtime & DEV_TOOLS
    assert {"fastapi", "uvicorn", "aiokafka", "asyncpg", "prometheus_client"} <= runtime


def test_the_dev_requirements_add_to_the_runtime_ones_without_repeating_them() -> None:
    lines = (REPO / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
    assert "-r requirements.txt" in lines
    dev = {name for name, _ in pins("requirements-dev.txt")}
    assert DEV_TOOLS <= dev
    assert not dev & {name for name, _ in pins("requirements.txt")}


def test_every_copied_source_exists_and_the_context_leaves_out_local_state() -> None:
    sources = re.findall(r"^COPY (?!--from)(\S+)", DOCKERFILE, re.MULTILINE)
    assert sources
    assert all((REPO / source).exists() for source in sources)
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert {".git", ".local", "tests", "**/__pycache__"} <= set(ignored)
    # Dev tooling never reaches an image, not even as a file in the build context.
    assert {"devstack", "requirements-dev.txt", "shared/stopclock_shared/testing"} <= set(ignored)
    assert not {"shared", "services", "requirements.txt"} & set(ignored)
