import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stopclock_ticket.domain import TicketType, ticket_number


@pytest.mark.parametrize(
    ("type_", "seq", "expected"),
    [
        (TicketType.INCIDENT, 123, "INC0000123"),
        (TicketType.SERVICE_REQUEST, 456, "REQ0000456"),
        (TicketType.INCIDENT, 1, "INC0000001"),
        (TicketType.INCIDENT, 9_999_999, "INC9999999"),
        (TicketType.SERVICE_REQUEST, 10_000_000, "REQ10000000"),
    ],
)
def test_number_is_prefix_and_seven_padded_digits(
    type_: TicketType, seq: int, expected: str
) -> None:
    assert ticket_number(type_, seq) == expected


@pytest.mark.parametrize("seq", [0, -1])
def test_number_refuses_a_non_positive_sequence(seq: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        ticket_number(TicketType.INCIDENT, seq)


@settings(deadline=None)
@given(type_=st.sampled_from(TicketType), seq=st.integers(min_value=1, max_value=10**12))
def test_number_gives_back_its_sequence_and_never_shrinks_below_seven_digits(
    type_: TicketType, seq: int
) -> None:
    number = ticket_number(type_, seq)
    assert number[:3] == {"incident": "INC", "service_request": "REQ"}[type_]
    assert int(number[3:]) == seq
    assert len(number) == 3 + max(7, len(str(seq)))
