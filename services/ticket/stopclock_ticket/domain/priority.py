"""ITIL priority matrix: impact x urgency -> P1..P4."""

from stopclock_ticket.domain.vocabulary import Impact, Priority, Urgency

_MATRIX: dict[tuple[Impact, Urgency], Priority] = {
    (Impact.HIGH, Urgency.HIGH): Priority.P1,
    (Impact.HIGH, Urgency.MEDIUM): Priority.P2,
    (Impact.MEDIUM, Urgency.HIGH): Priority.P2,
    (Impact.HIGH, Urgency.LOW): Priority.P3,
    (Impact.MEDIUM, Urgency.MEDIUM): Priority.P3,
    (Impact.LOW, Urgency.HIGH): Priority.P3,
    (Impact.MEDIUM, Urgency.LOW): Priority.P4,
    (Impact.LOW, Urgency.MEDIUM): Priority.P4,
    (Impact.LOW, Urgency.LOW): Priority.P4,
}


def priority_for(impact: Impact, urgency: Urgency) -> Priority:
    """Return the priority the ITIL matrix gives to this impact and urgency."""
    return _MATRIX[(Impact(impact), Urgency(urgency))]
