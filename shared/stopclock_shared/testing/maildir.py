"""Read the mails the local SMTP catcher stored in its Maildir (tests and benchmarks).

The catcher (``devstack.mailcatcher``) writes every message it accepts
into a Maildir; ``MailWatcher`` reads only the ones that arrived after it was created.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path


class MailWatcher:
    """Reads the mails that land in a Maildir after it was created (old ones are skipped).

    Only new file names are parsed, so a Maildir with thousands of mails stays cheap to poll.
    """

    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self.names: set[str] = set(self._listing())
        self.mails: list[EmailMessage] = []

    def _listing(self) -> list[str]:
        names: list[str] = []
        for sub in ("new", "cur"):
            try:
                names.extend(os.listdir(self.maildir / sub))
            except FileNotFoundError:
                pass
        return names

    def poll(self) -> list[EmailMessage]:
        """Parse the mails that arrived since the last poll, and return all seen so far."""
        for sub in ("new", "cur"):
            try:
                names = os.listdir(self.maildir / sub)
            except FileNotFoundError:
                continue
            for name in names:
                key = name.split(":", 1)[0]  # a reader moving new/ -> cur/ appends ":2,"
                if key in self.names or name in self.names:
                    continue
                try:
                    raw = (self.maildir / sub / name).read_bytes()
                except FileNotFoundError:
                    continue  # moved to cur/ meanwhile: the next poll finds it
                self.names.update({name, key})
                parsed = email.message_from_bytes(raw, policy=email.policy.default)
                assert isinstance(parsed, EmailMessage)
                self.mails.append(parsed)
        return self.mails

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.poll() if str(m["To"]).lower() == address.lower()]

    async def wait_for(
        self, match: Callable[[EmailMessage], bool], count: int = 1, timeout: float = 20.0
    ) -> list[EmailMessage]:
        """The mails matching ``match`` once at least ``count`` arrived (or at the timeout)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [m for m in self.poll() if match(m)]
            if len(found) >= count or loop.time() > deadline:
                return found
            await asyncio.sleep(0.1)

    async def wait_to(
        self, address: str, count: int = 1, timeout: float = 20.0
    ) -> list[EmailMessage]:
        return await self.wait_for(
            lambda m: str(m["To"]).lower() == address.lower(), count, timeout
        )


def body_text(message: EmailMessage) -> str:
    """The plain-text part of a mail (fails the test when there is none)."""
    part = message.get_body(("plain",))
    assert part is not None, "the mail has no text/plain part"
    return str(part.get_content())
