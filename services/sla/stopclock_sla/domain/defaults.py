"""What exists before anyone configures anything: the 24x7 calendar and default policies.

* `24x7` is version 1 of a calendar that can never be replaced (a `PUT` is refused).
* The default policies give every ticket an SLA when no configured policy matches: one per
  priority, on 24x7, ITIL-style figures. They are ordinary stored policies (seeded once,
  shown by `GET /policies`, replaceable by `PUT`), with `order` 1000 so that any policy a
  desk configures with a lower order wins.
"""

from __future__ import annotations

from typing import Any, Final

from stopclock_shared.business_time import WEEKDAY_KEYS, Calendar

ALWAYS_NAME: Final = "24x7"
ALWAYS_VERSION: Final = 1
ALWAYS = Calendar.always(ALWAYS_NAME)
ALWAYS_SPEC: Final[dict[str, Any]] = {
    "timezone": "UTC",
    "week": {day: [["00:00", "24:00"]] for day in WEEKDAY_KEYS},
    "holidays": {},
}

DEFAULT_ORDER: Final = 1000
_MINUTE = 60
_HOUR = 3600
# priority -> (first response, resolution) in seconds of 24x7 time
DEFAULT_TARGETS: Final = {
    "P1": (15 * _MINUTE, 4 * _HOUR),
    "P2": (1 * _HOUR, 8 * _HOUR),
    "P3": (4 * _HOUR, 24 * _HOUR),
    "P4": (8 * _HOUR, 72 * _HOUR),
}


def default_policy_specs() -> dict[str, dict[str, Any]]:
    """Name -> API body of the default policies (`default-p1` .. `default-p4`)."""
    return {
        f"default-{priority.lower()}": {
            "match": {"priority": priority},
            "order": DEFAULT_ORDER,
            "pause_statuses": ["waiting_on_user"],
            "warn_at": [0.5, 0.75, 0.9],
            "targets": {
                "first_response": {"seconds": first, "calendar": ALWAYS_NAME},
                "resolution": {"seconds": resolution, "calendar": ALWAYS_NAME},
            },
        }
        for priority, (first, resolution) in DEFAULT_TARGETS.items()
    }
