"""Every service's OpenAPI document, fuzzed by schemathesis against the running stack.

Runs after the integration and e2e tests (``make test`` runs this folder last): the fuzzer
writes a lot of odd but valid data. Seeded and bounded, so a run is repeatable and fits CI.
The checks are the contract's promises: no 5xx, every status, content type, header and body
as documented, and undeclared methods answered 405.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stopclock_shared.testing.stack import Stack

SERVICES = ("ticket", "sla", "notification", "escalation", "survey")
SEED = os.environ.get("FUZZ_SEED", "20261203")
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "25")
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "unsupported_method",
    )
)
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack.from_env()


@pytest.mark.parametrize("service", SERVICES)
def test_the_api_keeps_its_contract_under_fuzzing(
    stack: Stack, service: str, tmp_path: Path
) -> None:
    token = stack.token("fuzz-admin", "admin", "agent", "manager")
    argv = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{stack.url(service)}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--seed",
        SEED,
        "--max-examples",
        MAX_EXAMPLES,
        "--checks",
        CHECKS,
        "--request-timeout",
        "20",
        "--no-color",
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "hooks",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    report = (result.stdout + result.stderr)[-20000:]
    assert result.returncode == 0, f"schemathesis found problems in {service}:\n{report}"
