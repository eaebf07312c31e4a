"""Optional IMAP poller, for deployments where no mail server can deliver to us over SMTP.

Off unless ``STOPCLOCK_INBOUND_IMAP_HOST`` is set. Every ``inbound_imap_poll_seconds`` it
reads the mailbox and hands each message to the same ``Intake`` as the SMTP receiver; a
message is flagged ``\\Deleted`` (and expunged) only after its record was committed, so a
crash in between leaves it in the mailbox, and the next poll finds it a copy (same
Message-ID) and just deletes it. Run one poller per mailbox: replicas would only race for
the same messages (harmless, since Message-IDs are deduplicated, but wasteful).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Any

from aioimaplib import IMAP4, IMAP4_SSL

from .intake import Intake
from .settings import NotificationSettings
from .use_cases.inbound import Received, Status

log = logging.getLogger(__name__)
_UID = re.compile(rb"^\d+$")
BATCH = 50  # messages per poll: a full mailbox is drained over several polls


def uids_of(lines: Sequence[Any]) -> list[str]:
    """The UIDs of an ``UID SEARCH`` answer (its first line lists them, space-separated)."""
    if not lines:
        return []
    first = lines[0]
    words = bytes(first).split() if isinstance(first, bytes | bytearray) else []
    return [w.decode() for w in words if _UID.match(w)]


def message_of(lines: Sequence[Any]) -> bytes | None:
    """The message bytes of an ``UID FETCH … (RFC822)`` answer (the literal), if any."""
    for line in lines:
        if isinstance(line, bytearray):
            return bytes(line)
    return None


async def poll_once(client: IMAP4, intake: Intake, mailbox: str) -> int:
    """Take in up to ``BATCH`` messages; how many were deleted from the mailbox."""
    await client.select(mailbox)
    search = await client.uid_search("UNDELETED")
    if search.result != "OK":
        raise RuntimeError(f"IMAP search failed: {search.lines!r}")
    deleted = 0
    for uid in uids_of(search.lines)[:BATCH]:
        fetched = await client.uid("fetch", uid, "(RFC822)")
        raw = message_of(fetched.lines) if fetched.result == "OK" else None
        if raw is None:
            log.warning("IMAP message %s could not be fetched: %r", uid, fetched.lines[-1:])
            continue
        taken = await intake(Received(raw=raw))
        if taken.status is Status.RATE_LIMITED:
            continue  # left in the mailbox: taken in on a later poll
        await client.uid("store", uid, "+FLAGS.SILENT", r"(\Deleted)")
        deleted += 1
    if deleted:
        await client.expunge()
    return deleted


async def run_poller(settings: NotificationSettings, intake: Intake) -> None:
    """Connect, poll every ``inbound_imap_poll_seconds``; errors end the run (supervised)."""
    client_class = IMAP4_SSL if settings.inbound_imap_ssl else IMAP4
    client = client_class(host=settings.inbound_imap_host, port=settings.inbound_imap_port)
    await client.wait_hello_from_server()
    login = await client.login(
        settings.inbound_imap_username, settings.inbound_imap_password.get_secret_value()
    )
    if login.result != "OK":
        raise RuntimeError(f"IMAP login refused for {settings.inbound_imap_username!r}")
    log.info("IMAP poller on %s/%s", settings.inbound_imap_host, settings.inbound_imap_mailbox)
    try:
        while True:
            await poll_once(client, intake, settings.inbound_imap_mailbox)
            await asyncio.sleep(settings.inbound_imap_poll_seconds)
    finally:
        try:
            await client.logout()
        except Exception:  # the connection may be gone already
            log.debug("IMAP logout failed", exc_info=True)
