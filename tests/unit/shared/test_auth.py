"""Bearer token verification, including the cache of verified tokens: a cached token must
still expire on time and must never open the door under another secret."""

from __future__ import annotations

import time

import jwt
import pytest

from stopclock_shared.auth import Role, decode_token, make_token
from stopclock_shared.problems import ProblemError

SECRET = "unit-test-secret-long-enough-for-hs256-keys"


def test_a_valid_token_gives_its_principal_and_known_roles_only() -> None:
    token = jwt.encode({"sub": "ann", "roles": ["agent", "pilot"]}, SECRET, algorithm="HS256")
    principal = decode_token(token, SECRET)
    assert principal.sub == "ann"
    assert principal.roles == frozenset({Role.AGENT})
    assert decode_token(token, SECRET) == principal  # from the cache, same answer


def test_a_cached_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = make_token(SECRET, "bob", ["requester"], ttl_seconds=60)
    assert decode_token(token, SECRET).sub == "bob"
    later = time.time() + 60 + 30  # past expiry and leeway
    monkeypatch.setattr(time, "time", lambda: later)
    monkeypatch.setattr(jwt.api_jwt, "datetime", _frozen_datetime(later))
    with pytest.raises(ProblemError) as caught:
        decode_token(token, SECRET)
    assert caught.value.status == 401
    assert "expired" in (caught.value.detail or "")


def test_a_cached_token_is_refused_under_another_secret() -> None:
    token = make_token(SECRET, "carol", ["admin"])
    assert decode_token(token, SECRET).sub == "carol"
    with pytest.raises(ProblemError) as caught:
        decode_token(token, "another-secret-long-enough-for-hs256-keys")
    assert caught.value.status == 401


def test_a_tampered_token_is_refused() -> None:
    token = make_token(SECRET, "dave", ["requester"])
    assert decode_token(token, SECRET).roles == frozenset({Role.REQUESTER})
    header, _, signature = token.split(".")
    forged = jwt.encode(
        {"sub": "dave", "roles": ["admin"]},
        "guessed-secret-long-enough-for-hs256-keys",
        algorithm="HS256",
    )
    with pytest.raises(ProblemError) as caught:
        decode_token(f"{header}.{forged.split('.')[1]}.{signature}", SECRET)
    assert caught.value.status == 401


def _frozen_datetime(at: float) -> type:
    """``datetime`` as PyJWT sees it, with ``now`` fixed at ``at``."""
    from datetime import UTC, datetime

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: object = None) -> Frozen:
            return cls.fromtimestamp(at, tz=UTC)

    return Frozen
