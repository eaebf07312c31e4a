"""Domain refusals; the HTTP edge maps them to 409, 422 and 403 problems."""

from stopclock_ticket.domain.vocabulary import Status


class DomainError(Exception):
    """Base of every refusal raised by the ticket domain."""


class InvalidTransition(DomainError):
    """The ticket's status does not allow the requested move (HTTP 409)."""

    def __init__(self, from_status: Status, to_status: Status, allowed: tuple[Status, ...]):
        self.from_status = from_status
        self.to_status = to_status
        self.allowed = allowed
        names = ", ".join(allowed) or "none"
        super().__init__(f"cannot go from {from_status} to {to_status}; allowed: {names}")


class FieldError(DomainError):
    """A field of the request is missing or not acceptable (HTTP 422)."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class Forbidden(DomainError):
    """The actor may not do this to this ticket (HTTP 403)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)
