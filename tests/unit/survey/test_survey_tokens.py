import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stopclock_survey.domain.tokens import new_token, token_digest, tokens_match

URL_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def test_a_token_from_32_random_bytes_is_43_url_safe_characters() -> None:
    token = new_token(bytes(range(32)))
    assert len(token) == 43
    assert URL_SAFE.match(token)


@pytest.mark.parametrize("size", [0, 8, 15])
def test_fewer_than_128_random_bits_are_refused(size: int) -> None:
    with pytest.raises(ValueError, match="at least 16"):
        new_token(b"\x01" * size)


@settings(deadline=None)
@given(a=st.binary(min_size=16, max_size=64), b=st.binary(min_size=16, max_size=64))
def test_different_randomness_never_gives_the_same_token(a: bytes, b: bytes) -> None:
    assert (new_token(a) == new_token(b)) is (a == b)
    assert URL_SAFE.match(new_token(a))


@pytest.mark.parametrize(
    ("presented", "expected", "same"),
    [
        ("abc", "abc", True),
        ("abc", "abd", False),
        ("abc", "abcd", False),
        ("", "abc", False),
        ("é-ünïcode", "abc", False),
    ],
)
def test_tokens_match_only_when_equal(presented: str, expected: str, same: bool) -> None:
    assert tokens_match(presented, expected) is same


def test_the_stored_digest_is_stable_and_does_not_reveal_the_token() -> None:
    token = new_token(b"\x07" * 32)
    assert token_digest(token) == token_digest(token)
    assert token not in token_digest(token)
    assert token_digest(token) != token_digest(new_token(b"\x08" * 32))
    assert len(token_digest(token)) == 64
