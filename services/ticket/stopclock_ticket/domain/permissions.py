"""Who may do what to a ticket. Staff (agent, manager, admin, service) may do
everything; a requester only acts on their own tickets, and only to comment
publicly, cancel while open, or reopen once resolved."""

from stopclock_shared.identity import STAFF, Principal
from stopclock_ticket.domain.vocabulary import Status, Visibility

STAFF_ROLES = STAFF
Actor = Principal  # who is acting: the token's subject (`.id`) and roles


def may_act_for(actor: Actor, person_id: str) -> bool:
    """Staff act for anyone; anyone else for themselves only (their profile, their
    subscriptions, the tickets they open)."""
    return actor.is_staff or actor.id == person_id


def may_see_ticket(actor: Actor, requester_id: str) -> bool:
    """Staff see every ticket; a requester sees their own only."""
    return may_act_for(actor, requester_id)


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
