"""Tickets keep the calendar versions they started with: `name@version` keys and pinning."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stopclock_sla.domain import PolicyMatch, SlaPolicy, Target
from stopclock_sla.domain.calendar_pins import (
    NAME_PATTERN,
    calendar_key,
    is_valid_name,
    pin_policy,
    split_key,
)

names = st.from_regex(NAME_PATTERN, fullmatch=True)


@settings(deadline=None, max_examples=200)
@given(names, st.integers(1, 10**6))
def test_a_calendar_key_splits_back_into_its_name_and_version(name: str, version: int) -> None:
    assert split_key(calendar_key(name, version)) == (name, version)


@settings(deadline=None, max_examples=200)
@given(names)
def test_a_bare_name_means_the_current_version(name: str) -> None:
    assert split_key(name) == (name, None)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("24x7", True),
        ("office-paris_v2.1", True),
        ("", False),
        ("-leading-dash", False),
        ("office@3", False),
        ("with space", False),
        ("x" * 100, True),
        ("x" * 101, False),
    ],
)
def test_names_are_short_plain_words_without_at_signs(name: str, valid: bool) -> None:
    assert is_valid_name(name) is valid


def test_pinning_fixes_each_target_to_the_current_calendar_version() -> None:
    policy = SlaPolicy(
        "p",
        1,
        PolicyMatch(),
        0,
        resolution=Target(3600, "office", ("info_requested",)),
        first_response=Target(600, "24x7"),
    )
    pinned = pin_policy(policy, {"office": 4, "24x7": 1})
    assert pinned.resolution == Target(3600, "office@4", ("info_requested",))
    assert pinned.first_response == Target(600, "24x7@1")
    assert (pinned.name, pinned.version, pinned.match) == (policy.name, 1, policy.match)


def test_pinning_leaves_pinned_and_unknown_calendars_alone() -> None:
    policy = SlaPolicy(
        "p",
        1,
        PolicyMatch(),
        0,
        resolution=Target(3600, "office@2"),
        first_response=Target(600, "gone"),
    )
    assert pin_policy(policy, {"office": 4}) == policy
