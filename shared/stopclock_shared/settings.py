"""Process settings, read from ``STOPCLOCK_*`` environment variables.

Every service builds one ``Settings`` (or a subclass) in ``main``/``create_app`` and hands it
down; nothing reads the environment at import time.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .links import REPLY_LOCAL_PART_ROOM, link_key

DEV_JWT_SECRET = "stopclock-local-dev-secret-change-me-in-prod"
LOCAL_PG_PORT = 55432
SERVICE_PORTS = {
    "ticket": 8000,
    "sla": 8001,
    "notification": 8002,
    "escalation": 8003,
    "survey": 8004,
}


def local_database_url(service: str, port: int = LOCAL_PG_PORT) -> str:
    """The database URL of ``service`` in the local stack (one role and database per service)."""
    name = f"stopclock_{service}"
    return f"postgresql+asyncpg://{name}:{name}@127.0.0.1:{port}/{name}"


class Settings(BaseSettings):
    """Settings common to every service. ``service_name`` is set by each service's subclass."""

    model_config = SettingsConfigDict(env_prefix="STOPCLOCK_", extra="ignore")

    service_name: str = "unknown"
    env: str = "local"
    service_host: str = "127.0.0.1"
    service_port: int = 0
    database_url: str = ""
    db_pool_size: int = 10
    kafka_bootstrap: str = "127.0.0.1:9092"
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    # Tokens must expire within this long of their issue (401 otherwise).
    jwt_max_lifetime_seconds: int = Field(default=24 * 3600, ge=60)
    # Request bodies larger than this are refused with 413 before they are parsed.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    public_survey_url: str = "http://127.0.0.1:8004"
    # Public bases of the policy pages (``/policy``): the confirmation mail links to the
    # sla one, and the two pages link to each other.
    public_sla_url: str = "http://127.0.0.1:8001"
    public_escalation_url: str = "http://127.0.0.1:8003"
    # The desk's own address: the From of every mail, where people write to the desk, and
    # the base of the reply addresses (local+tag@domain).
    desk_address: str = "servicedesk@stopclock.local"
    # Key of the signed reply addresses and answer links (``links.py``), shared by the
    # services that make and read them; empty: derived from the JWT secret.
    link_secret: SecretStr = SecretStr("")
    log_level: str = "INFO"
    log_json: bool = True
    relay_enabled: bool = True
    consumers_enabled: bool = True
    # Consumer group ids default to "stopclock-<service>"; tests may isolate with a suffix.
    group_suffix: str = ""
    topic_partitions: int = 12

    @model_validator(mode="after")
    def _defaults_and_secrets(self) -> Settings:
        if not self.database_url:
            self.database_url = local_database_url(self.service_name)
        if not self.service_port:
            self.service_port = SERVICE_PORTS.get(self.service_name, 8080)
        local, at, domain = self.desk_address.rpartition("@")
        if not at or not local or not domain or len(local) > REPLY_LOCAL_PART_ROOM:
            raise ValueError(
                "STOPCLOCK_DESK_ADDRESS must be local@domain with a local part of at most "
                f"{REPLY_LOCAL_PART_ROOM} characters (reply addresses add a tag to it)"
            )
        if self.env == "production" and self.jwt_secret.get_secret_value() == DEV_JWT_SECRET:
            raise ValueError("STOPCLOCK_JWT_SECRET must be set in production")
        return self

    @property
    def link_key(self) -> bytes:
        """HMAC key of reply addresses and answer links."""
        secret = self.link_secret.get_secret_value() or self.jwt_secret.get_secret_value()
        return link_key(secret)

    @property
    def group_id(self) -> str:
        return f"stopclock-{self.service_name}{self.group_suffix}"
