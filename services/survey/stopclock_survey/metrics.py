"""Survey service metrics (catalogue: docs/metrics.md)."""

from prometheus_client import Counter

SENT = Counter("stopclock_surveys_sent_total", "Survey invitations sent")
ANSWERED = Counter(
    "stopclock_surveys_answered_total", "Survey answers", ["satisfied", "after_breach"]
)
NEGATIVE = Counter(
    "stopclock_surveys_negative_total", "Negative answers (rating <= 2 or not resolved)"
)
EXPIRED = Counter("stopclock_surveys_expired_total", "Invitations that expired unanswered")

# Created at 0 so that increase() sees the first answer of each kind.
for _satisfied in ("true", "false"):
    for _breach in ("true", "false"):
        ANSWERED.labels(_satisfied, _breach)
