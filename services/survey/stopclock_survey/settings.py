"""Settings of the survey service (``STOPCLOCK_*`` environment variables)."""

from __future__ import annotations

from stopclock_shared.settings import Settings

from .domain.survey import SURVEY_VALIDITY


class SurveySettings(Settings):
    service_name: str = "survey"
    # How long an invitation takes answers (default: the domain's fortnight).
    survey_validity_seconds: int = int(SURVEY_VALIDITY.total_seconds())
    # Housekeeping, not an SLA timer: how often unanswered surveys are marked expired.
    survey_expiry_interval_seconds: float = 60.0
