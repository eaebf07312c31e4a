"""Recording the mails an event causes: planned from its typed payload, refused where the
recipient opted out, written once (which proves they can be), stored as ``pending`` rows
that the senders pick up."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from stopclock_shared.events.envelope import Envelope

from .. import metrics
from ..domain import OPTIONAL_KINDS, Desk, MailedEvent, PlannedMail, is_wanted, plan_mails, render
from ..repository import NewMail
from ..written_mails import WrittenMails
from . import NotificationUnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recorded:
    """The mails of one event: recorded (new or not), and refused by their recipient."""

    recorded: tuple[NewMail, ...]
    refused: tuple[PlannedMail, ...]


def split_by_preference(
    planned: Iterable[PlannedMail], opt_outs: Mapping[str, Sequence[str]]
) -> tuple[list[PlannedMail], list[PlannedMail]]:
    """(wanted, refused): a mail is refused when its recipient opted out of its kind.

    Mandatory kinds are always wanted; mails to an address without a person id (the desk
    manager) have no preferences.
    """
    wanted: list[PlannedMail] = []
    refused: list[PlannedMail] = []
    for mail in planned:
        opt_out = opt_outs.get(mail.recipient_id, ()) if mail.recipient_id else ()
        (wanted if is_wanted(mail.kind, opt_out) else refused).append(mail)
    return wanted, refused


async def record_mails(
    uow: NotificationUnitOfWork,
    event: MailedEvent,
    envelope: Envelope,
    *,
    desk: Desk,
    now: datetime,
    wake_sender: Callable[[], None],
    written: WrittenMails | None = None,
) -> Recorded:
    """Record the mails ``event`` causes as ``pending`` rows, due at once.

    The rows go in with the transaction's commit (one INSERT for a whole poll); a redelivered
    event plans the same dedupe keys and records nothing new. When new rows were committed,
    ``wake_sender`` wakes one sender of this process. ``written`` keeps each mail written
    here for that sender, so it is rendered once.
    """
    planned = plan_mails(
        envelope.type, event, event_id=envelope.id, event_time=envelope.time, desk=desk
    )
    if not planned:
        return Recorded((), ())
    # Only a recipient of an optional kind can have refused it: a mandatory mail (the
    # confirmation of every new ticket) needs no look-up.
    choosers = [m.recipient_id for m in planned if m.recipient_id and m.kind in OPTIONAL_KINDS]
    opt_outs = await uow.repo.opt_outs(choosers) if choosers else {}
    wanted, refused = split_by_preference(planned, opt_outs)
    for mail in refused:
        metrics.MAILS_SUPPRESSED.labels(mail.kind.value).inc()
        log.info("not mailing %s to %s: opted out", mail.kind.value, mail.recipient_id or "unknown")
    correlation_id = envelope.correlationid or envelope.id
    recorded = []
    for mail in wanted:
        text = render(mail)
        if written is not None:
            written.put(mail.dedupe_key, text)
        recorded.append(
            NewMail(
                planned=mail,
                subject=text.subject,
                event_id=envelope.id,
                event_type=envelope.type,
                event_time=envelope.time,
                correlation_id=correlation_id,
                created_at=now,
            )
        )
    uow.repo.add_mails_at_commit(recorded, wake_sender)
    return Recorded(tuple(recorded), tuple(refused))
