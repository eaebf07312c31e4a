"""Rules for the commands other services send (``tickets.commands``): who a relayed
comment is from, and when a resolve command is left alone."""

from stopclock_shared.events.vocabulary import ResolveReason
from stopclock_ticket.domain.permissions import Actor
from stopclock_ticket.domain.vocabulary import Role, Status

# The statuses a resolve command may act on, by its reason; other reasons go by the lifecycle.
_RESOLVABLE: dict[str, frozenset[Status]] = {
    # The wait must still be on: an answer that arrived meanwhile wins.
    ResolveReason.NO_RESPONSE: frozenset({Status.WAITING_ON_USER}),
    # "Yes, it works" from an answer page: the work was done, whether we asked or not.
    ResolveReason.CONFIRMED_BY_REQUESTER: frozenset({Status.WAITING_ON_USER, Status.IN_PROGRESS}),
}


def resolve_refusal(reason: str | None, status: Status) -> str | None:
    """Why a resolve command with ``reason`` must leave a ticket in ``status`` alone, or None
    when the lifecycle decides."""
    allowed = _RESOLVABLE.get(reason or "")
    if allowed is None or status in allowed:
        return None
    if reason == ResolveReason.NO_RESPONSE:
        return "requester answered meanwhile"
    return f"ticket is {status}, not waiting on the requester or in progress"


def system_actor(source: str) -> Actor:
    """A service acting in its own name (``system:<CloudEvents source>``)."""
    return Actor(sub=f"system:{source}", roles=frozenset({Role.SERVICE}))


def requester_actor(person_id: str) -> Actor:
    """The ticket's requester, acting through a mail or an answer page."""
    return Actor(sub=person_id, roles=frozenset({Role.REQUESTER}))


def comment_author(author_id: str | None, requester_id: str, source: str) -> Actor:
    """Who a relayed comment is from: the named person, or the sending service itself.

    Only the requester is given the requester role; anyone else named by a mail or a page
    is a person without roles here, so their comment can never count as the requester's
    answer, whatever its visibility.
    """
    if author_id is None:
        return system_actor(source)
    if author_id == requester_id:
        return requester_actor(author_id)
    return Actor(sub=author_id, roles=frozenset())


def fit(text: str, limit: int, placeholder: str) -> str:
    """``text`` stripped and cut to ``limit`` characters (with an ellipsis), or the
    placeholder when blank: a mail's subject or body must never make its ticket fail."""
    text = text.strip()
    if not text:
        return placeholder
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
