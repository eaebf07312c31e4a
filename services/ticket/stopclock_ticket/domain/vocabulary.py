"""The fixed words of the ticket domain; values are the API's strings (API.md)."""

from enum import StrEnum


class TicketType(StrEnum):
    INCIDENT = "incident"
    SERVICE_REQUEST = "service_request"


class Impact(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Urgency(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Status(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_ON_USER = "waiting_on_user"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class WaitingReason(StrEnum):
    INFO_REQUESTED = "info_requested"
    USER_VALIDATION = "user_validation"
    USER_RESPONSE = "user_response"


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


class Role(StrEnum):
    REQUESTER = "requester"
    AGENT = "agent"
    MANAGER = "manager"
    ADMIN = "admin"
    SERVICE = "service"


OPEN_STATUSES: frozenset[Status] = frozenset(
    {Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_ON_USER}
)
FINAL_STATUSES: frozenset[Status] = frozenset({Status.CLOSED, Status.CANCELLED})
STAFF_ROLES: frozenset[Role] = frozenset({Role.AGENT, Role.MANAGER, Role.ADMIN, Role.SERVICE})
