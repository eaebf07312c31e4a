"""What the image gets: the services run on requirements.txt alone, their built packages carry
every file of the source tree (test support aside), and loading them never loads the local
stack supervisor (devstack/) or test tooling."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from ops_support import REPO, SERVICES
from packaging.requirements import Requirement

# Runtime code: what the image installs (shared's test support is left out of it).
RUNTIME_ROOTS = [REPO / "shared" / "stopclock_shared"] + [
    REPO / "services" / name for name in SERVICES
]
TEST_SUPPORT = REPO / "shared" / "stopclock_shared" / "testing"
# Build leftovers never copied into a build (they would be shipped as they are).
JUNK = ("__pycache__", "*.pyc", "*.egg-info", "build")
DEV_ONLY = ("devstack", "bench", "pytest", "hypothesis", "httpx", "schemathesis", "playwright")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_files() -> list[Path]:
    return [
        path
        for root in RUNTIME_ROOTS
        for path in root.rglob("*.py")
        if TEST_SUPPORT not in path.parents
    ]


def third_party_imports() -> dict[str, Path]:
    """Top-level module -> one runtime file importing it (stdlib and our packages left out)."""
    found: dict[str, Path] = {}
    for path in runtime_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and not top.startswith("stopclock_"):
                    found.setdefault(top, path)
    return found


def installed_by(requirements: Path) -> set[str]:
    """Distributions that `pip install -r requirements` brings: the pins and what they need."""
    lines = requirements.read_text(encoding="utf-8").splitlines()
    todo = [Requirement(line) for line in lines if line and not line.startswith(("#", "-"))]
    seen: set[str] = set()
    while todo:
        requirement = todo.pop()
        key = normalise(requirement.name) + "".join(f"[{e}]" for e in sorted(requirement.extras))
        if key in seen:
            continue
        seen.update({key, normalise(requirement.name)})
        extras = requirement.extras | {""}
        for needed in metadata.requires(requirement.name) or []:
            dependency = Requirement(needed)
            marker = dependency.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in extras):
                todo.append(dependency)
    return {key for key in seen if "[" not in key}


def test_every_import_of_the_runtime_code_is_installed_by_requirements_txt() -> None:
    installed = installed_by(REPO / "requirements.txt")
    owners = metadata.packages_distributions()
    missing = {
        module: str(path.relative_to(REPO))
        for module, path in third_party_imports().items()
        if not {normalise(d) for d in owners.get(module, [module])} & installed
    }
    assert not missing, f"imported at run time but not in requirements.txt: {missing}"


def test_the_runtime_requirements_bring_no_test_or_lint_tool() -> None:
    installed = installed_by(REPO / "requirements.txt")
    assert not installed & {"pytest", "hypothesis", "mypy", "ruff", "httpx", "pre-commit"}


# Imports every module of the given packages except test support (walk_packages would import
# stopclock_shared.testing to look inside it), then prints what got loaded.
_LOAD_EVERYTHING = """
import importlib, json, pkgutil, sys

def load(name):
    module = importlib.import_module(name)
    for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
        child = f"{name}.{info.name}"
        if child != "stopclock_shared.testing" and info.name != "__main__":
            load(child)

for top in sys.argv[1:]:
    load(top)
print(json.dumps(sorted(sys.modules)))
"""


def test_loading_every_runtime_module_loads_no_dev_tooling(tmp_path: Path) -> None:
    packages = ["stopclock_shared"] + [f"stopclock_{name}" for name in SERVICES]
    # Outside the repository, where devstack/ and bench/ are not importable, as in an image.
    result = subprocess.run(
        [sys.executable, "-c", _LOAD_EVERYTHING, *packages],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout)
    assert "stopclock_notification.app" in loaded  # it did load the services
    dev = sorted(m for m in loaded if m.split(".")[0] in DEV_ONLY or ".testing" in m)
    assert not dev, f"runtime modules pulled in dev tooling: {dev}"


@pytest.mark.slow  # builds six wheels (about 15 s)
def test_the_built_packages_carry_every_file_the_source_tree_has(tmp_path: Path) -> None:
    """Templates, CSS and SQL reach the image: its packages are built, not editable, and a
    data file the package-data globs miss only fails there (at import or at first render)."""
    projects = [REPO / "shared"] + [REPO / "services" / name for name in SERVICES]
    for project in projects:
        shutil.copytree(project, tmp_path / project.name, ignore=shutil.ignore_patterns(*JUNK))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["--wheel-dir", str(tmp_path / "wheels")]
        + [str(tmp_path / project.name) for project in projects],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    shipped = {
        name
        for wheel in (tmp_path / "wheels").glob("*.whl")
        for name in zipfile.ZipFile(wheel).namelist()
        if ".dist-info/" not in name
    }
    source = {
        str(path.relative_to(project))
        for project in projects
        for path in project.glob("stopclock_*/**/*")
        if path.is_file()
        and not set(path.relative_to(project).parts) & {"__pycache__", "testing"}
        and path.suffix != ".pyc"
    }
    assert source - shipped == set(), "left out of the built packages (package-data?)"
    assert not {name for name in shipped if name.startswith("stopclock_shared/testing/")}
