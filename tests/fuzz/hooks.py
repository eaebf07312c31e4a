"""Schemathesis hooks of the fuzz run (loaded through ``SCHEMATHESIS_HOOKS``).

The fuzzer writes through the real API with an admin token. Policies and calendars are global:
one with a random ``match`` and a low ``order`` would take over every ticket that follows,
and a PUT could replace the built-in ``24x7`` calendar. So every such PUT is confined before
it is sent: its name gets a ``fuzz-`` prefix and its policy matches only the service
``fuzz-only``. Everything else about the request is left as generated.
"""

from __future__ import annotations

from typing import Any

import schemathesis

CONFIG_PATHS = (
    "/api/v1/sla/policies/{name}",
    "/api/v1/sla/calendars/{name}",
    "/api/v1/escalation/policies/{name}",
)
FUZZ_SERVICE = "fuzz-only"


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    if case.operation.path not in CONFIG_PATHS or case.method.upper() != "PUT":
        return
    params = case.path_parameters
    if isinstance(params, dict) and isinstance(params.get("name"), str):
        params["name"] = f"fuzz-{params['name']}"[:200]
    body = case.body
    if isinstance(body, dict):
        # A body without `match` is a catch-all policy: it must be confined too. A `match`
        # that is not an object is left as generated (the API refuses it with a 422).
        match = body.setdefault("match", {})
        if isinstance(match, dict):
            match["service"] = FUZZ_SERVICE
