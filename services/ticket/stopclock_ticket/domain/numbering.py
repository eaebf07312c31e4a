"""Human-readable ticket numbers: INC0000123, REQ0000456."""

from stopclock_ticket.domain.vocabulary import TicketType

_PREFIX: dict[TicketType, str] = {
    TicketType.INCIDENT: "INC",
    TicketType.SERVICE_REQUEST: "REQ",
}
_DIGITS = 7


def ticket_number(type_: TicketType, seq: int) -> str:
    """Format a ticket number from its type and a positive sequence value.

    Seven digits, zero-padded; a sequence past 9,999,999 simply gets more digits
    rather than wrapping, so numbers stay unique.
    """
    if seq < 1:
        raise ValueError(f"ticket sequence must be positive, got {seq}")
    return f"{_PREFIX[TicketType(type_)]}{seq:0{_DIGITS}d}"
