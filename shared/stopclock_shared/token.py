"""``python -m stopclock_shared.token <sub> <role> [<role> ...]``: print a local bearer token.

Signed with ``STOPCLOCK_JWT_SECRET`` (the local default when unset), valid for 12 hours. For the
local stack and scripts; production tokens come from the identity provider.
"""

from __future__ import annotations

import os
import sys

from .auth import Role, make_token
from .settings import DEV_JWT_SECRET


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        roles = ", ".join(r.value for r in Role)
        print(f"usage: python -m stopclock_shared.token <sub> <role>... (roles: {roles})")
        return 2
    unknown = [r for r in argv[1:] if r not in Role._value2member_map_]
    if unknown:
        print(f"unknown role(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    secret = os.environ.get("STOPCLOCK_JWT_SECRET", DEV_JWT_SECRET)
    print(make_token(secret, argv[0], argv[1:], ttl_seconds=12 * 3600))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
