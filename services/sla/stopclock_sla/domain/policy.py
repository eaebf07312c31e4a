"""SLA policies: which tickets they match, what they promise, and what pauses them.

Validation decisions:

* `pause_statuses` may only name open statuses (`new`, `assigned`, `in_progress`,
  `waiting_on_user`): a resolved, closed or cancelled ticket stops its clocks (met or
  cancelled), so pausing there would mean nothing.
* A target's `pause_reasons` narrows only the `waiting_on_user` status: `None` (absent)
  means every reason pauses, `()` means waiting never pauses that target. Other pause
  statuses are not affected by it.
* `warn_at` fractions lie strictly between 0 and 1, strictly increasing (no duplicates);
  an empty tuple means no warnings.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias, TypeGuard, get_args

from stopclock_shared.errors import FieldError, Invalid
from stopclock_shared.events.vocabulary import OPEN_STATUSES, Status, WaitingReason

TargetName: TypeAlias = Literal["first_response", "resolution"]
TARGET_NAMES: Final[tuple[TargetName, ...]] = get_args(TargetName)

TICKET_STATUSES: Final = frozenset(Status)
PAUSABLE_STATUSES: Final = OPEN_STATUSES
WAITING_REASONS: Final = frozenset(WaitingReason)
TICKET_TYPES: Final = frozenset({"incident", "service_request"})
PRIORITIES: Final = frozenset({"P1", "P2", "P3", "P4"})
WAITING: Final = "waiting_on_user"
DEFAULT_PAUSE_STATUSES: Final = (WAITING,)
DEFAULT_WARN_AT: Final = (0.5, 0.75, 0.9)

# A target beyond ten years is a typo, not a promise; it also bounds how far any deadline
# computation walks (business_time jumps weeks, but not forever).
MAX_TARGET_SECONDS = 10 * 366 * 86_400


class PolicyError(Invalid):
    """A policy is invalid; `errors` lists every field problem found (a 422 at the edge)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A promise: `seconds` of business time on `calendar` (a calendar name)."""

    seconds: float
    calendar: str
    pause_reasons: tuple[str, ...] | None = None

    def pauses_on(self, pause_statuses: Collection[str], status: str, reason: str | None) -> bool:
        """Whether a ticket in `status` (with waiting `reason`) pauses this target."""
        if status not in pause_statuses:
            return False
        if status != WAITING or self.pause_reasons is None:
            return True
        return reason in self.pause_reasons


@dataclass(frozen=True, slots=True)
class PolicyMatch:
    """Ticket attributes a policy requires; `None` matches anything."""

    type: str | None = None
    priority: str | None = None
    service: str | None = None

    def matches(self, ticket_type: str, priority: str, service: str | None) -> bool:
        """True when every field that is set equals the ticket's."""
        return (
            (self.type is None or self.type == ticket_type)
            and (self.priority is None or self.priority == priority)
            and (self.service is None or self.service == service)
        )


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """A versioned SLA policy. `resolution` is required; `first_response` is optional."""

    name: str
    version: int
    match: PolicyMatch
    order: int
    resolution: Target
    first_response: Target | None = None
    pause_statuses: tuple[str, ...] = DEFAULT_PAUSE_STATUSES
    warn_at: tuple[float, ...] = DEFAULT_WARN_AT

    @property
    def targets(self) -> dict[TargetName, Target]:
        """Targets by name, `first_response` first when present."""
        found: dict[TargetName, Target] = {}
        if self.first_response is not None:
            found["first_response"] = self.first_response
        found["resolution"] = self.resolution
        return found

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (the API body plus name and version)."""
        return {"name": self.name, "version": self.version, **policy_to_spec(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaPolicy:
        """Inverse of `to_dict` (no calendar check: the data was validated when stored)."""
        return policy_from_spec(data["name"], data, version=data["version"], calendars=None)


def match_policy(
    policies: Iterable[SlaPolicy], ticket_type: str, priority: str, service: str | None
) -> SlaPolicy | None:
    """The matching policy with the lowest `order` (ties: by name), or None."""
    candidates = [p for p in policies if p.match.matches(ticket_type, priority, service)]
    return min(candidates, key=lambda p: (p.order, p.name), default=None)


def validate_policy(policy: SlaPolicy, calendars: Collection[str] | None) -> tuple[FieldError, ...]:
    """Every problem with a policy; `calendars` are the known calendar names (None: skip)."""
    errors: list[FieldError] = []
    if not policy.name.strip():
        errors.append(FieldError("name", "must not be empty"))
    errors += _match_errors(policy.match)
    errors += _pause_status_errors(policy.pause_statuses)
    errors += _warn_at_errors(policy.warn_at)
    for name, target in policy.targets.items():
        errors += _target_errors(f"targets.{name}", target, calendars)
    return tuple(errors)


def policy_from_spec(
    name: str,
    spec: Mapping[str, Any],
    *,
    version: int,
    calendars: Collection[str] | None,
) -> SlaPolicy:
    """Build and validate a policy from the API body; raises `PolicyError` with all errors.

    Body: `{match: {type?, priority?, service?}, order, pause_statuses?, warn_at?,
    targets: {first_response?: {seconds, calendar, pause_reasons?}, resolution: {...}}}`.
    """
    errors: list[FieldError] = []
    match = _parse_match(spec.get("match", {}), errors)
    order = spec.get("order", 0)
    if not _is_int(order):
        errors.append(FieldError("order", "expected an integer"))
        order = 0
    pause_statuses = _str_tuple(
        spec.get("pause_statuses", list(DEFAULT_PAUSE_STATUSES)), "pause_statuses", errors
    )
    warn_at = _parse_warn_at(spec.get("warn_at", list(DEFAULT_WARN_AT)), errors)
    targets_spec = spec.get("targets")
    if not isinstance(targets_spec, Mapping):
        errors.append(FieldError("targets", "expected an object with a resolution target"))
        targets_spec = {}
    for key in targets_spec:
        if key not in TARGET_NAMES:
            errors.append(FieldError(f"targets.{key}", "unknown target"))
    resolution = _parse_target("resolution", targets_spec.get("resolution"), errors)
    first_response = None
    if targets_spec.get("first_response") is not None:
        first_response = _parse_target("first_response", targets_spec["first_response"], errors)
    if errors or resolution is None:
        raise PolicyError(errors)
    policy = SlaPolicy(
        name, version, match, order, resolution, first_response, pause_statuses, warn_at
    )
    problems = validate_policy(policy, calendars)
    if problems:
        raise PolicyError(problems)
    return policy


def policy_to_spec(policy: SlaPolicy) -> dict[str, Any]:
    """The API body of a policy (what `PUT` accepts and `GET` shows)."""
    match = {
        k: v
        for k, v in (
            ("type", policy.match.type),
            ("priority", policy.match.priority),
            ("service", policy.match.service),
        )
        if v is not None
    }
    targets: dict[str, Any] = {}
    for name, target in policy.targets.items():
        seconds = int(target.seconds) if target.seconds.is_integer() else target.seconds
        body: dict[str, Any] = {"seconds": seconds, "calendar": target.calendar}
        if target.pause_reasons is not None:
            body["pause_reasons"] = list(target.pause_reasons)
        targets[name] = body
    return {
        "match": match,
        "order": policy.order,
        "pause_statuses": list(policy.pause_statuses),
        "warn_at": list(policy.warn_at),
        "targets": targets,
    }


# --- checks --------------------------------------------------------------------------


def _match_errors(match: PolicyMatch) -> list[FieldError]:
    errors = []
    if match.type is not None and match.type not in TICKET_TYPES:
        errors.append(FieldError("match.type", f"expected one of {_listing(TICKET_TYPES)}"))
    if match.priority is not None and match.priority not in PRIORITIES:
        errors.append(FieldError("match.priority", f"expected one of {_listing(PRIORITIES)}"))
    if match.service is not None and not match.service.strip():
        errors.append(FieldError("match.service", "must not be empty"))
    return errors


def _pause_status_errors(statuses: tuple[str, ...]) -> list[FieldError]:
    errors = []
    for i, status in enumerate(statuses):
        where = f"pause_statuses[{i}]"
        if status not in TICKET_STATUSES:
            errors.append(FieldError(where, f"unknown status {status!r}"))
        elif status not in PAUSABLE_STATUSES:
            errors.append(
                FieldError(where, f"{status} stops the clock (met or cancelled); it cannot pause")
            )
        elif status in statuses[:i]:
            errors.append(FieldError(where, f"{status} is listed twice"))
    return errors


def _warn_at_errors(warn_at: tuple[float, ...]) -> list[FieldError]:
    errors = []
    for i, fraction in enumerate(warn_at):
        where = f"warn_at[{i}]"
        if not 0 < fraction < 1:
            errors.append(FieldError(where, "a warning fraction lies strictly between 0 and 1"))
        elif i and fraction <= warn_at[i - 1]:
            errors.append(FieldError(where, "fractions must be strictly increasing"))
    return errors


def _target_errors(
    where: str, target: Target, calendars: Collection[str] | None
) -> list[FieldError]:
    errors = []
    if not math.isfinite(target.seconds) or target.seconds <= 0:
        errors.append(FieldError(f"{where}.seconds", "must be a positive number of seconds"))
    elif target.seconds > MAX_TARGET_SECONDS:
        errors.append(FieldError(f"{where}.seconds", "must be at most ten years of seconds"))
    if calendars is not None and target.calendar not in calendars:
        errors.append(FieldError(f"{where}.calendar", f"unknown calendar {target.calendar!r}"))
    for i, reason in enumerate(target.pause_reasons or ()):
        field = f"{where}.pause_reasons[{i}]"
        if reason not in WAITING_REASONS:
            errors.append(FieldError(field, f"expected one of {_listing(WAITING_REASONS)}"))
        elif reason in (target.pause_reasons or ())[:i]:
            errors.append(FieldError(field, f"{reason} is listed twice"))
    return errors


# --- parsing -------------------------------------------------------------------------


def _parse_match(raw: Any, errors: list[FieldError]) -> PolicyMatch:
    if not isinstance(raw, Mapping):
        errors.append(FieldError("match", "expected an object {type?, priority?, service?}"))
        return PolicyMatch()
    values: dict[str, str | None] = {}
    for key in raw:
        if key not in ("type", "priority", "service"):
            errors.append(FieldError(f"match.{key}", "unknown match field"))
    for key in ("type", "priority", "service"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            errors.append(FieldError(f"match.{key}", "expected a string"))
            value = None
        values[key] = value
    return PolicyMatch(values["type"], values["priority"], values["service"])


def _parse_warn_at(raw: Any, errors: list[FieldError]) -> tuple[float, ...]:
    if not isinstance(raw, list | tuple):
        errors.append(FieldError("warn_at", "expected a list of fractions"))
        return ()
    fractions = []
    for i, value in enumerate(raw):
        if not _is_number(value):
            errors.append(FieldError(f"warn_at[{i}]", "expected a number"))
        else:
            fractions.append(float(value))
    return tuple(fractions)


def _parse_target(name: str, raw: Any, errors: list[FieldError]) -> Target | None:
    where = f"targets.{name}"
    if raw is None:
        errors.append(FieldError(where, "is required"))
        return None
    if not isinstance(raw, Mapping):
        errors.append(FieldError(where, "expected an object {seconds, calendar, pause_reasons?}"))
        return None
    count = len(errors)
    for key in raw:
        if key not in ("seconds", "calendar", "pause_reasons"):
            errors.append(FieldError(f"{where}.{key}", "unknown target field"))
    seconds = raw.get("seconds")
    if not _is_number(seconds):
        errors.append(FieldError(f"{where}.seconds", "expected a number of seconds"))
        seconds = 0.0
    calendar = raw.get("calendar")
    if not isinstance(calendar, str):
        errors.append(FieldError(f"{where}.calendar", "expected a calendar name"))
    reasons = None
    if raw.get("pause_reasons") is not None:
        reasons = _str_tuple(raw["pause_reasons"], f"{where}.pause_reasons", errors)
    if len(errors) > count or not isinstance(calendar, str):
        return None
    return Target(float(seconds), calendar, reasons)


def _str_tuple(raw: Any, where: str, errors: list[FieldError]) -> tuple[str, ...]:
    if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
        errors.append(FieldError(where, "expected a list of strings"))
        return ()
    return tuple(raw)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _listing(values: Collection[str]) -> str:
    return ", ".join(sorted(values))
