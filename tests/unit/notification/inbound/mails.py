"""The saved raw messages under ``mails/`` (real client formats, anonymised)."""

from pathlib import Path

from stopclock_notification.domain.inbound import InboundMail, read_mail

MAILS = Path(__file__).parent / "mails"


def raw(name: str) -> bytes:
    return (MAILS / f"{name}.eml").read_bytes()


def read(name: str) -> InboundMail:
    return read_mail(raw(name))
