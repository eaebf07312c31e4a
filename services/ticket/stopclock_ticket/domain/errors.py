"""The ticket domain's own refusals, as kinds of the shared ones (`stopclock_shared.errors`),
so the HTTP edge maps them to problems in one place: a field problem is `Invalid` (422), a
move the actor may not make is `Forbidden` (403), these two are `Conflict`s (409)."""

from stopclock_shared.errors import Conflict
from stopclock_ticket.domain.vocabulary import Status


class InvalidTransition(Conflict):
    """The ticket's status does not allow the requested move; the problem lists the moves
    it does allow (``allowed``) and the status it is in (``current_status``)."""

    title = "Invalid transition"

    def __init__(self, from_status: Status, to_status: Status, allowed: tuple[Status, ...]):
        self.from_status = from_status
        self.to_status = to_status
        self.allowed = allowed
        names = ", ".join(allowed) or "none"
        super().__init__(
            f"cannot go from {from_status} to {to_status}; allowed: {names}",
            allowed=[s.value for s in allowed],
            current_status=from_status.value,
        )


class OutageResolved(Conflict):
    """An update or resolution for an outage that is over."""

    title = "Outage resolved"

    def __init__(self) -> None:
        super().__init__("This outage is already resolved")
