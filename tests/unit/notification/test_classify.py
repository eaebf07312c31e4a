"""Send failures: the server being away is not the mail's fault; a rejection is."""

import aiosmtplib
import pytest

from stopclock_notification.domain import Failure
from stopclock_notification.sender import classify, describe


@pytest.mark.parametrize(
    ("exc", "failure"),
    [
        (ConnectionRefusedError(111, "Connection refused"), Failure.UNREACHABLE),
        (aiosmtplib.SMTPConnectError("Error connecting to 127.0.0.1"), Failure.UNREACHABLE),
        (aiosmtplib.SMTPConnectTimeoutError("timed out"), Failure.UNREACHABLE),
        (aiosmtplib.SMTPServerDisconnected("Connection lost"), Failure.UNREACHABLE),
        (
            aiosmtplib.SMTPReadTimeoutError("Timed out waiting for server response"),
            Failure.UNREACHABLE,
        ),
        (TimeoutError(), Failure.UNREACHABLE),
        (aiosmtplib.SMTPResponseException(421, "shutting down"), Failure.UNREACHABLE),
        (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), Failure.UNREACHABLE),
        (aiosmtplib.SMTPRecipientRefused(550, "no such user", "x@y"), Failure.REJECTED),
        (aiosmtplib.SMTPRecipientsRefused([]), Failure.REJECTED),
        (aiosmtplib.SMTPDataError(552, "message too big"), Failure.REJECTED),
        (aiosmtplib.SMTPSenderRefused(553, "sender refused", "a@b"), Failure.REJECTED),
        (aiosmtplib.SMTPResponseException(451, "try again later"), Failure.REJECTED),
        (RuntimeError("something else"), Failure.REJECTED),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_each_send_error_is_classified(exc: BaseException, failure: Failure) -> None:
    assert classify(exc) is failure


def test_an_error_is_described_on_one_line_with_its_type() -> None:
    text = describe(aiosmtplib.SMTPDataError(552, "message\ntoo big"))
    assert "\n" not in text
    assert text.startswith("SMTPDataError: ")
    assert "too big" in text


def test_an_error_without_a_message_is_described_by_its_type() -> None:
    assert describe(TimeoutError()) == "TimeoutError"
