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
    claims = {"sub": "ann", "roles": ["agent", "pilot"], "exp": int(time.time()) + 60}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
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


def _refused(claims: dict[str, object], max_lifetime: float = 3600) -> str:
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    with pytest.raises(ProblemError) as caught:
        decode_token(token, SECRET, max_lifetime)
    assert caught.value.status == 401
    return caught.value.detail or ""


def test_a_token_without_expiry_is_refused() -> None:
    assert "exp" in _refused({"sub": "eve", "roles": ["admin"]})


def test_a_token_that_lives_longer_than_allowed_is_refused() -> None:
    now = int(time.time())
    year = 365 * 24 * 3600
    assert "longer" in _refused({"sub": "eve", "roles": [], "iat": now, "exp": now + year})
    # without `iat`, the lifetime counts from now
    assert "longer" in _refused({"sub": "eve", "roles": [], "exp": now + 7200})
    ok = jwt.encode({"sub": "eve", "roles": [], "exp": now + 1800}, SECRET, algorithm="HS256")
    assert decode_token(ok, SECRET, 3600).sub == "eve"


@pytest.mark.parametrize(
    ("claims", "word"),
    [
        ({"sub": "x", "roles": "admin"}, "roles"),
        ({"sub": "x", "roles": [["admin"]]}, "roles"),
        ({"sub": "x", "roles": [{"admin": 1}]}, "roles"),
        ({"sub": "x", "roles": [None]}, "roles"),
        ({"sub": 42, "roles": []}, "Subject"),
        ({"sub": "", "roles": []}, "sub"),
        ({"sub": "a\x00b", "roles": []}, "sub"),
        ({"sub": "x" * 201, "roles": []}, "sub"),
    ],
)
def test_malformed_claims_are_refused(claims: dict[str, object], word: str) -> None:
    assert word in _refused({**claims, "exp": int(time.time()) + 60})
