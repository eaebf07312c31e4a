"""Notification service metrics (catalogue: docs/metrics.md, "Notification service")."""

from prometheus_client import Counter, Gauge, Histogram

from stopclock_shared.metrics import LATENCY_BUCKETS

MAILS_SENT = Counter("stopclock_mails_sent_total", "Mails accepted by the SMTP server", ["kind"])
MAILS_FAILED = Counter(
    "stopclock_mails_failed_total", "Send attempts that failed and will be retried", ["kind"]
)
MAILS_DEAD = Counter(
    "stopclock_mails_dead_total", "Mails given up on after the last retry", ["kind"]
)
MAILS_SUPPRESSED = Counter(
    "stopclock_mails_suppressed_total",
    "Mails not recorded because the recipient opted out of their (optional) kind",
    ["kind"],
)
MAIL_SEND_DURATION = Histogram(
    "stopclock_mail_send_duration_seconds", "Time of one SMTP send", buckets=LATENCY_BUCKETS
)
# Event time to SMTP acceptance spans milliseconds (live) to hours (after an outage).
END_TO_END_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
MAIL_END_TO_END = Histogram(
    "stopclock_mail_end_to_end_seconds",
    "From the causing event's time to the SMTP server accepting the mail",
    ["kind"],
    buckets=END_TO_END_BUCKETS,
)
MAILS_PENDING = Gauge("stopclock_mails_pending", "Mails recorded but not yet sent")

# Mail to the desk (use_cases/inbound.py, intake.py, inbound_smtp.py, inbound_imap.py).
INBOUND_MAILS = Counter(
    "stopclock_inbound_mails_total",
    "Mails to the desk taken in and recorded, by outcome (a copy of one taken in is not counted)",
    ["outcome"],
)
INBOUND_DUPLICATES = Counter(
    "stopclock_inbound_duplicates_total",
    "Mails whose Message-ID was taken in before: answered 250, nothing done again",
)
INBOUND_REFUSED = Counter(
    "stopclock_inbound_refused_total",
    "Mails refused at the SMTP level: too_big (552), rate_limited (450), "
    "recipient (550: not our domain), error (451: could not record, the client retries)",
    ["reason"],
)
INBOUND_PROCESSING = Histogram(
    "stopclock_inbound_processing_seconds",
    "From the end of the mail's data to its record committed (what the SMTP client waits for)",
    buckets=LATENCY_BUCKETS,
)
