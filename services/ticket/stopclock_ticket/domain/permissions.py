"""Who may do what to a ticket. Staff (agent, manager, admin, service) may do
everything; a requester only acts on their own tickets, and only to comment
publicly, cancel while open, or reopen once resolved."""

from dataclasses import dataclass

from stopclock_ticket.domain.vocabulary import STAFF_ROLES, Role, Status, Visibility


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: the JWT `sub` and `roles`."""

    id: str
    roles: frozenset[Role]

    @property
    def is_staff(self) -> bool:
        """True when any role beyond `requester` is held."""
        return not self.roles.isdisjoint(STAFF_ROLES)


def may_see_ticket(actor: Actor, requester_id: str) -> bool:
    """Staff see every ticket; a requester sees their own only."""
    return actor.is_staff or actor.id == requester_id


def may_see_comment(actor: Actor, visibility: Visibility) -> bool:
    """Internal comments are for staff only."""
    return actor.is_staff or visibility == Visibility.PUBLIC


def may_comment(actor: Actor, requester_id: str, visibility: Visibility) -> bool:
    """Staff comment anywhere; a requester writes public comments on their own ticket."""
    if actor.is_staff:
        return True
    return actor.id == requester_id and visibility == Visibility.PUBLIC


def may_transition(actor: Actor, requester_id: str, from_status: Status, to: Status) -> bool:
    """Whether the actor may ask for this move (its validity is the lifecycle's job).

    A requester may cancel their own ticket (the lifecycle refuses it once the
    ticket is no longer open) and reopen it from `resolved`. Leaving
    `waiting_on_user` is done by commenting, see `requester_answered`.
    """
    if actor.is_staff:
        return True
    if actor.id != requester_id:
        return False
    return to == Status.CANCELLED or (from_status == Status.RESOLVED and to == Status.IN_PROGRESS)
