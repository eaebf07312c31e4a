"""Which resolved tickets get a satisfaction survey.

Decision: a ticket resolved for lack of response (reason ``no_response``) gets no
survey. The requester did not engage, the auto-resolve mail already tells them how
to reopen, and a rating there would measure annoyance at the auto-close rather than
the service. The negative-feedback loop still sees them: answering reopens the ticket,
and when an agent resolves it again that resolution is surveyed like any other.
"""

from __future__ import annotations

from stopclock_shared.events.vocabulary import ResolveReason

_NOT_SURVEYED: frozenset[str] = frozenset({ResolveReason.NO_RESPONSE})


def should_survey(resolution_reason: str | None) -> bool:
    """True unless the resolution reason says the requester never answered."""
    return resolution_reason not in _NOT_SURVEYED
