"""The IMAP poller's pure parts (reading aioimaplib answers) and its one rule: a message
leaves the mailbox only after its record was committed."""

from __future__ import annotations

from unittest.mock import AsyncMock, call

import pytest
from aioimaplib import IMAP4, Response

from stopclock_notification.domain.inbound_decision import Outcome
from stopclock_notification.inbound_imap import message_of, poll_once, uids_of
from stopclock_notification.intake import Intake
from stopclock_notification.use_cases.inbound import Received, Status, Taken

RAW = b"From: ada@example.test\r\nTo: servicedesk@stopclock.local\r\n\r\nhello\r\n"


@pytest.mark.parametrize(
    ("lines", "uids"),
    [
        ([b"4 7 12", b"SEARCH completed"], ["4", "7", "12"]),
        ([b"", b"SEARCH completed"], []),
        ([bytearray(b"3"), b"done"], ["3"]),
        ([b"SEARCH completed"], []),
        ([], []),
    ],
)
def test_uids_are_read_from_the_first_line_of_a_search(lines: list[bytes], uids: list[str]) -> None:
    assert uids_of(lines) == uids


def test_the_message_is_the_literal_of_a_fetch() -> None:
    lines = [b"1 FETCH (UID 4 RFC822 {64}", bytearray(RAW), b")", b"FETCH completed"]
    assert message_of(lines) == RAW
    assert message_of([b"FETCH completed"]) is None


def client_with(uids: list[str]) -> AsyncMock:
    client = AsyncMock(spec=IMAP4)
    client.select.return_value = Response("OK", [b"selected"])
    client.uid_search.return_value = Response("OK", [" ".join(uids).encode(), b"done"])

    async def uid(command: str, *args: str) -> Response:
        if command == "fetch":
            return Response("OK", [b"1 FETCH (RFC822 {64}", bytearray(RAW), b")", b"done"])
        return Response("OK", [b"done"])

    client.uid.side_effect = uid
    client.expunge.return_value = Response("OK", [b"done"])
    return client


def intake_answering(*statuses: Status | Exception) -> AsyncMock:
    intake = AsyncMock(spec=Intake)
    intake.side_effect = [
        s if isinstance(s, Exception) else Taken(s, outcome=Outcome.COMMENT) for s in statuses
    ]
    return intake


async def test_recorded_and_duplicate_messages_are_deleted_rate_limited_ones_kept() -> None:
    client = client_with(["4", "7", "9"])
    intake = intake_answering(Status.ACCEPTED, Status.DUPLICATE, Status.RATE_LIMITED)
    assert await poll_once(client, intake, "INBOX") == 2
    assert intake.await_args_list == [call(Received(raw=RAW))] * 3
    stores = [c for c in client.uid.await_args_list if c.args[0] == "store"]
    assert [c.args[1] for c in stores] == ["4", "7"]
    client.expunge.assert_awaited_once()


async def test_a_message_whose_record_failed_stays_in_the_mailbox() -> None:
    client = client_with(["4"])
    intake = intake_answering(ConnectionError("database away"))
    with pytest.raises(ConnectionError):
        await poll_once(client, intake, "INBOX")
    assert not [c for c in client.uid.await_args_list if c.args[0] == "store"]
    client.expunge.assert_not_awaited()
