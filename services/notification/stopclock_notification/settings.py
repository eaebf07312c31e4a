"""Settings of the notification service (``STOPCLOCK_*`` environment variables)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator

from stopclock_shared.settings import Settings

from .domain.locales import DEFAULT_LOCALE, DEFAULT_TIMEZONE
from .domain.message_id import DEFAULT_MESSAGE_ID_DOMAIN


class NotificationSettings(Settings):
    """Common settings plus mail delivery (SMTP host/port come from the common ones)."""

    service_name: str = "notification"
    mail_from: str = "Stopclock Service Desk <servicedesk@stopclock.local>"
    # Attempts after which a mail the SMTP server keeps rejecting is given up (`dead`).
    mail_max_attempts: int = Field(default=8, ge=1)
    # Concurrent sender loops per process, each with its own SMTP connection.
    mail_senders: int = Field(default=4, ge=1, le=64)
    mail_batch_size: int = Field(default=10, ge=1, le=500)
    # How long a claimed row stays reserved for its sender; a sender that dies mid-send
    # gets its rows re-sent (same Message-ID) when the lease ends.
    mail_lease_seconds: float = Field(default=60.0, gt=0)
    # Senders poll this often for rows they were not woken for: retries falling due, rows
    # recorded by other replicas.
    mail_poll_seconds: float = Field(default=0.5, gt=0)
    message_id_domain: str = DEFAULT_MESSAGE_ID_DOMAIN
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    smtp_use_tls: bool = False
    # None: upgrade with STARTTLS when the server offers it.
    smtp_start_tls: bool | None = None
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    # The desk manager is known only by address: their mails use these.
    desk_locale: str = DEFAULT_LOCALE
    desk_timezone: str = DEFAULT_TIMEZONE

    # Mail to the desk (inbound_smtp.py): an SMTP listener in this process. Port 0 or an
    # empty host disables it (e.g. private replicas in tests, or an IMAP-only deployment).
    inbound_smtp_host: str = "127.0.0.1"
    inbound_smtp_port: int = Field(default=2525, ge=0, le=65535)
    # Bigger mails are refused with SMTP 552 (attachments are not stored anyway).
    inbound_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # Mails one sender may send in an hour; more are refused with SMTP 450 (try later).
    inbound_rate_per_hour: int = Field(default=30, ge=1)
    # The raw bytes of a mail are kept with its record (for diagnosis) up to this size.
    inbound_keep_raw_bytes: int = Field(default=256 * 1024, ge=0)
    # Optional IMAP poller (inbound_imap.py): off unless a host is set.
    inbound_imap_host: str = ""
    inbound_imap_port: int = Field(default=993, ge=1, le=65535)
    inbound_imap_ssl: bool = True
    inbound_imap_username: str = ""
    inbound_imap_password: SecretStr = SecretStr("")
    inbound_imap_mailbox: str = "INBOX"
    inbound_imap_poll_seconds: float = Field(default=30.0, gt=0)

    @field_validator("inbound_smtp_port", mode="before")
    @classmethod
    def _empty_port_disables(cls, value: Any) -> Any:
        return 0 if value is None or (isinstance(value, str) and not value.strip()) else value

    @property
    def inbound_smtp_enabled(self) -> bool:
        return bool(self.inbound_smtp_host.strip()) and self.inbound_smtp_port > 0

    @model_validator(mode="after")
    def _lease_outlives_a_send(self) -> NotificationSettings:
        # A sender starts a send only while the lease has room for it (sender.py).
        if self.mail_lease_seconds < 2 * self.smtp_timeout_seconds + 1:
            raise ValueError(
                "STOPCLOCK_MAIL_LEASE_SECONDS must be at least "
                "2 * STOPCLOCK_SMTP_TIMEOUT_SECONDS + 1"
            )
        return self
