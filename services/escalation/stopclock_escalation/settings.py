"""Settings of the escalation service (``STOPCLOCK_*`` environment variables)."""

from __future__ import annotations

from stopclock_shared.settings import Settings

DEFAULT_DESK_MANAGER_EMAIL = "desk-manager@stopclock.local"


class EscalationSettings(Settings):
    service_name: str = "escalation"
    # Told of SLA breaches and negative feedback, and of blocked requesters without a
    # manager, when the matching policy does not name someone else.
    desk_manager_email: str = DEFAULT_DESK_MANAGER_EMAIL
    # The responsiveness register's window and threshold (the API's figures).
    responsiveness_window_days: int = 90
    responsiveness_min_unanswered: int = 2
