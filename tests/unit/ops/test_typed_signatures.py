"""Use cases and event handlers say what they take and give: no ``Any`` in the signature of a
public function of a service's ``use_cases/`` or of a handler in its ``consumers.py``, written
directly or reached through an alias or a TypedDict (issue 14: mypy strict catches the rest)."""

from __future__ import annotations

import ast
import importlib
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ("ticket", "sla", "notification", "escalation", "survey")


def _has_any(hint: object, seen: frozenset[int] = frozenset()) -> bool:
    if hint is typing.Any:
        return True
    if id(hint) in seen:
        return False
    seen = seen | {id(hint)}
    if isinstance(hint, type) and typing.is_typeddict(hint):
        return any(_has_any(h, seen) for h in typing.get_type_hints(hint).values())
    return any(_has_any(arg, seen) for arg in typing.get_args(hint))


def _signatures() -> Iterator[tuple[str, str, list[str]]]:
    """(where, function, the annotations' source) of every public use case and handler."""
    for service in SERVICES:
        package = ROOT / "services" / service / f"stopclock_{service}"
        files = [*sorted((package / "use_cases").glob("*.py")), package / "consumers.py"]
        for path in files:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            # Use cases: the module's functions; handlers: every function in consumers.py
            # (they are often nested in the function that builds the routes).
            nodes = tree.body if path.parent.name == "use_cases" else list(ast.walk(tree))
            for node in nodes:
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if node.name.startswith("_"):
                    continue
                args = node.args
                params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
                annotations = [p.annotation for p in params] + [node.returns]
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                yield where, node.name, [ast.unparse(a) for a in annotations if a is not None]


SIGNATURES = list(_signatures())


class _Loose(typing.TypedDict):
    rows: list[dict[str, typing.Any]]


def test_any_is_found_behind_aliases_and_typed_dicts() -> None:
    assert _has_any(typing.Any)
    assert _has_any(dict[str, typing.Any] | None)
    assert _has_any(typing.Sequence[_Loose])
    assert not _has_any(typing.Mapping[str, object] | list[int])


def test_the_scan_finds_the_use_cases_and_handlers() -> None:
    names = {name for _, name, _ in SIGNATURES}
    assert len(SIGNATURES) > 60
    assert {"open_ticket", "change_status", "record_outcomes"} <= names


@pytest.mark.parametrize(("where", "name", "annotations"), SIGNATURES, ids=lambda v: str(v))
def test_no_any_in_a_use_case_or_handler_signature(
    where: str, name: str, annotations: list[str]
) -> None:
    path = Path(where.rsplit(":", 1)[0])
    module = importlib.import_module(".".join(path.with_suffix("").parts[2:]))
    namespace = vars(module)
    for source in annotations:
        hint = eval(source, namespace)  # the module's own names, as mypy reads them
        assert not _has_any(hint), f"{where} {name}: {source} reaches Any"
