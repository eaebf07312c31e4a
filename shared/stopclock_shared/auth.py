"""Bearer JWT (HS256) authentication and role checks shared by every service."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated

import jwt
from fastapi import Depends, Request

from .identity import STAFF, Principal, Role
from .problems import ProblemError

__all__ = ["STAFF", "Principal", "Role"]  # re-exported: routes import them from here


# Verified tokens by (secret, token) -> (principal, expiry): a client sends the same token on
# every request, and verifying the signature and claims again costs more than the lookup.
_VERIFIED: dict[tuple[str, str], tuple[Principal, float]] = {}
_VERIFIED_MAX = 4096
_LEEWAY = 5
# A token must expire, and within this long of when it was issued (or of now, without `iat`):
# a stolen long-lived token is worth more than a short one.
DEFAULT_MAX_TOKEN_LIFETIME = 24 * 3600
MAX_SUB_LENGTH = 200


def decode_token(
    token: str, secret: str, max_lifetime: float = DEFAULT_MAX_TOKEN_LIFETIME
) -> Principal:
    """Verify an HS256 token and read its principal; raise a 401 problem otherwise."""
    known = _VERIFIED.get((secret, token))
    if known is not None and time.time() <= known[1] + _LEEWAY:
        return known[0]
    principal, expires = _verify(token, secret, max_lifetime)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()  # simplest bound; refilled by the next requests
    _VERIFIED[(secret, token)] = (principal, expires)
    return principal


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "Unauthorized", detail)


def _verify(token: str, secret: str, max_lifetime: float) -> tuple[Principal, float]:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["sub", "exp"]},
            leeway=_LEEWAY,
        )
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorized("The token has expired") from exc
    except jwt.PyJWTError as exc:
        raise _unauthorized(f"Invalid token: {exc}") from exc
    sub = claims["sub"]
    if not isinstance(sub, str) or not sub or len(sub) > MAX_SUB_LENGTH or "\x00" in sub:
        raise _unauthorized(f"Claim 'sub' must be a text of 1 to {MAX_SUB_LENGTH} characters")
    raw_roles = claims.get("roles", [])
    if not isinstance(raw_roles, list) or not all(isinstance(r, str) for r in raw_roles):
        raise _unauthorized("Claim 'roles' must be a list of strings")
    expires = float(claims["exp"])  # pyjwt checked it is a number
    issued = claims.get("iat")
    since = float(issued) if isinstance(issued, int | float) else time.time()
    if not math.isfinite(expires) or expires - since > max_lifetime:
        raise _unauthorized(f"The token lives longer than the allowed {max_lifetime:.0f} s")
    roles = frozenset(Role(r) for r in raw_roles if r in Role._value2member_map_)
    return Principal(sub=sub, roles=roles), expires


def make_token(secret: str, sub: str, roles: Iterable[str], ttl_seconds: int = 3600) -> str:
    """Issue a token (local tools and tests; production tokens come from the identity provider)."""
    now = int(time.time())
    payload = {"sub": sub, "roles": list(roles), "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(payload, secret, algorithm="HS256")


# async on purpose: FastAPI runs plain ``def`` dependencies in a thread pool, a hop that
# costs more than the check itself.
async def current_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ProblemError(401, "Unauthorized", "Missing 'Authorization: Bearer <token>' header")
    settings = request.app.state.settings
    secret: str = settings.jwt_secret.get_secret_value()
    return decode_token(token.strip(), secret, settings.jwt_max_lifetime_seconds)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only principals holding one of ``roles`` (403 otherwise)."""

    async def check(principal: PrincipalDep) -> Principal:
        if not principal.has_any(roles):
            allowed = ", ".join(r.value for r in roles)
            raise ProblemError(403, "Forbidden", f"This action needs one of the roles: {allowed}")
        return principal

    return check


StaffDep = Annotated[
    Principal, Depends(require_roles(Role.AGENT, Role.MANAGER, Role.ADMIN, Role.SERVICE))
]
