"""Use cases of the notification service: (session, input, now) -> rows + outbox events.

Functions never commit; the HTTP dependency, the consumer loop or the sender owns the
transaction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from stopclock_shared.auth import Principal
from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.topics import NOTIFICATIONS_EVENTS
from stopclock_shared.events.types import EventType
from stopclock_shared.outbox import Outbox
from stopclock_shared.problems import ProblemError

from . import metrics
from . import repository as repo
from .domain import (
    OPTIONAL_KINDS,
    Failure,
    MailKind,
    PlannedMail,
    after_failure,
    is_wanted,
    opt_out_problems,
    plan_mails,
    render,
)
from .rendered import RenderedMails

SOURCE = "stopclock/notification"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Desk:
    """What planning needs beyond the event: survey, answer and policy-page links, the desk
    manager's language. ``link_key`` signs answer links (``Settings.link_key``); empty: no
    links."""

    survey_base_url: str
    locale: str
    timezone: str
    link_key: bytes = b""
    # The sla service's public base: the confirmation links to its policy page.
    policy_base_url: str = ""


@dataclass(frozen=True)
class Recorded:
    """The outcome of one event: rows inserted (new ones only) and mails refused by choice."""

    inserted: int
    suppressed: tuple[PlannedMail, ...]


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


def notification_row(
    mail: PlannedMail, envelope: Envelope, subject: str, now: datetime
) -> dict[str, Any]:
    """The `pending` row of a planned mail, due at once."""
    return {
        "id": uuid.uuid4(),
        "dedupe_key": mail.dedupe_key,
        "event_id": envelope.id,
        "event_type": envelope.type,
        "event_time": envelope.time,
        "correlation_id": envelope.correlationid or envelope.id,
        "ticket_id": mail.ticket_id,
        "kind": mail.kind.value,
        "recipient": mail.recipient_email,
        "recipient_id": mail.recipient_id,
        "locale": mail.locale,
        "timezone": mail.timezone,
        "context": mail.context,
        "subject": subject,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def record_mails(
    session: AsyncSession,
    envelope: Envelope,
    desk: Desk,
    now: datetime,
    on_recorded: Callable[[AsyncSession], None] | None = None,
    rendered: RenderedMails | None = None,
    payload: Any = None,
) -> Recorded:
    """Record the mails an event causes as `pending` rows (the consumer's half of a send).

    Raises `MalformedEventData` (the event lacks what its mails need) so the consumer
    dead-letters it. Rendering the mails here also proves they can be written.
    ``on_recorded(session)`` is called when new rows were inserted (to wake the senders);
    ``rendered`` keeps the mails written here for the senders of this process.
    """
    rows, refused = await planned_rows(session, envelope, desk, now, rendered, payload)
    inserted = await repo.insert_notifications(session, rows)
    if inserted and on_recorded is not None:
        on_recorded(session)
    return Recorded(inserted=len(inserted), suppressed=tuple(refused))


async def record_mails_at_commit(
    session: AsyncSession,
    envelope: Envelope,
    desk: Desk,
    now: datetime,
    on_recorded: Callable[[AsyncSession], None] | None = None,
    rendered: RenderedMails | None = None,
    payload: Any = None,
) -> None:
    """`record_mails`, with the INSERT left to the commit: the rows of every event of the
    transaction go in one statement (the consumer applies a whole poll in one transaction).

    Planning, preferences and rendering happen now, so a bad event still fails here.
    """
    rows, _ = await planned_rows(session, envelope, desk, now, rendered, payload)
    if rows:
        _rows_at_commit(session, on_recorded).extend(rows)


async def planned_rows(
    session: AsyncSession,
    envelope: Envelope,
    desk: Desk,
    now: datetime,
    rendered: RenderedMails | None = None,
    payload: Any = None,
) -> tuple[list[dict[str, Any]], list[PlannedMail]]:
    """(rows to insert, mails refused by their recipient's choice) for one event.

    ``payload``: the typed payload the consumer decoded (None: planning reads ``data``).
    """
    planned = plan_mails(
        envelope.type,
        envelope.data if payload is None else payload,
        event_id=envelope.id,
        event_time=envelope.time,
        survey_base_url=desk.survey_base_url,
        desk_locale=desk.locale,
        desk_timezone=desk.timezone,
        link_key=desk.link_key,
        policy_base_url=desk.policy_base_url,
    )
    if not planned:
        return [], []
    # Only a recipient of an optional kind can have refused it: a mandatory mail (the
    # confirmation of every new ticket) needs no look-up.
    choosers = [m.recipient_id for m in planned if m.recipient_id and m.kind in OPTIONAL_KINDS]
    opt_outs = await repo.opt_outs(session, choosers) if choosers else {}
    wanted, refused = split_by_preference(planned, opt_outs)
    for mail in refused:
        metrics.MAILS_SUPPRESSED.labels(mail.kind.value).inc()
        log.info("not mailing %s to %s: opted out", mail.kind.value, mail.recipient_id or "unknown")
    rows = []
    for mail in wanted:
        written = render(mail)
        if rendered is not None:
            rendered.put(mail.dedupe_key, written)
        rows.append(notification_row(mail, envelope, written.subject, now))
    return rows, refused


_ROWS_AT_COMMIT = "stopclock_notification.rows_at_commit"


def _rows_at_commit(
    session: AsyncSession, on_recorded: Callable[[AsyncSession], None] | None
) -> list[dict[str, Any]]:
    """The session's rows waiting for its commit; the first call arranges their INSERT.

    ``before_commit`` runs inside the commit, in SQLAlchemy's greenlet, so the INSERT can
    be issued there with the sync API; if it fails, the commit fails and rolls back, as a
    failing INSERT in the handler would have. A rollback drops the waiting rows.
    """
    found: list[dict[str, Any]] | None = session.info.get(_ROWS_AT_COMMIT)
    if found is not None:
        return found
    waiting: list[dict[str, Any]] = []
    session.info[_ROWS_AT_COMMIT] = waiting

    def insert(sync: Session) -> None:
        rows = list(waiting)
        waiting.clear()
        if rows and repo.insert_notifications_sync(sync, rows) and on_recorded is not None:
            on_recorded(session)

    def drop(_: Session) -> None:
        waiting.clear()

    event.listen(session.sync_session, "before_commit", insert)
    event.listen(session.sync_session, "after_rollback", drop)
    return waiting


def planned_of(row: Mapping[Any, Any]) -> PlannedMail:
    """The planned mail a stored row was made from (to render it at send time)."""
    return PlannedMail(
        kind=MailKind(row["kind"]),
        recipient_email=row["recipient"],
        recipient_id=row["recipient_id"],
        locale=row["locale"],
        timezone=row["timezone"],
        ticket_id=row["ticket_id"],
        event_id=row["event_id"],
        context=dict(row["context"]),
    )


def _outcome_event(
    type_: str, row: Mapping[Any, Any], now: datetime, error: str | None = None
) -> tuple[str, Envelope]:
    key = row["ticket_id"] or _outage_service(row) or str(row["id"])
    data: dict[str, Any] = {
        "notification_id": str(row["id"]),
        "ticket_id": row["ticket_id"],
        "kind": row["kind"],
        "recipient": row["recipient"],
        "message_id": row["message_id"],
        "attempts": row["attempts"],
    }
    if error is not None:
        data["error"] = error
    envelope = new_envelope(
        type_,
        source=SOURCE,
        subject=row["ticket_id"] or str(row["id"]),
        time=now,
        data=data,
        correlation_id=row["correlation_id"],
    )
    return key, envelope.model_copy(update={"causationid": row["event_id"]})


def _outage_service(row: Mapping[Any, Any]) -> str | None:
    outage = row["context"].get("outage") if isinstance(row["context"], Mapping) else None
    service = outage.get("service") if isinstance(outage, Mapping) else None
    return str(service) if service else None


async def record_sent(
    session: AsyncSession, outbox: Outbox, accepted: Sequence[repo.Accepted]
) -> Sequence[RowMapping]:
    """Mark leased rows `sent` and announce each; rows whose lease was lost are skipped."""
    updated = await repo.mark_sent(session, accepted)
    events = [_outcome_event(EventType.NOTIFICATION_SENT, row, row["sent_at"]) for row in updated]
    await outbox.add_many(session, NOTIFICATIONS_EVENTS, events)
    return updated


async def record_failure(
    session: AsyncSession,
    outbox: Outbox,
    row: Mapping[Any, Any],
    *,
    failure: Failure,
    error: str,
    message_id: str | None,
    now: datetime,
    jitter: float,
    max_attempts: int,
) -> RowMapping | None:
    """Record a failed attempt: `failed` with a retry time, or `dead` (announced as failed)."""
    outcome = after_failure(
        row["attempts"], failure, now=now, jitter=jitter, max_attempts=max_attempts
    )
    updated = await repo.mark_failed(
        session,
        row["id"],
        row["next_attempt_at"],
        status=outcome.status,
        attempts=outcome.attempts,
        error=error[:2000],
        next_attempt_at=outcome.next_attempt_at,
        message_id=message_id,
    )
    if updated is not None and outcome.status == "dead":
        event = _outcome_event(EventType.NOTIFICATION_FAILED, updated, now, error[:500])
        await outbox.add_many(session, NOTIFICATIONS_EVENTS, [event])
    return updated


# --- HTTP use cases -----------------------------------------------------------------------


def _may_manage(principal: Principal, person_id: str) -> None:
    if not principal.is_staff and principal.sub != person_id:
        raise ProblemError(403, "Forbidden", "Requesters may only manage their own preferences")


async def list_notifications(
    session: AsyncSession,
    principal: Principal,
    *,
    ticket_id: str | None,
    recipient: str | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    status: str | None = None,
) -> Sequence[RowMapping]:
    """The mail log; a requester sees only the mails addressed to their own person id."""
    return await repo.list_notifications(
        session,
        ticket_id=ticket_id,
        recipient=recipient,
        status=status,
        recipient_id=None if principal.is_staff else principal.sub,
        limit=limit,
        after=after,
    )


async def get_preferences(
    session: AsyncSession, principal: Principal, person_id: str
) -> dict[str, Any]:
    """A person's opt-outs; someone who never chose has opted out of nothing."""
    _may_manage(principal, person_id)
    found = await repo.get_preferences(session, person_id)
    if found is None:
        return {"person_id": person_id, "opt_out": [], "updated_at": None}
    return dict(found)


async def put_preferences(
    session: AsyncSession, principal: Principal, person_id: str, kinds: list[str], now: datetime
) -> dict[str, Any]:
    """Replace a person's opt-outs; unknown and mandatory kinds are refused (422)."""
    _may_manage(principal, person_id)
    problems = opt_out_problems(kinds)
    if problems:
        errors = [
            {"field": f"opt_out.{i}", "message": f"{kind}: {problems[kind]}"}
            for i, kind in enumerate(kinds)
            if kind in problems
        ]
        raise ProblemError(
            422,
            "Validation error",
            "; ".join(e["message"] for e in errors),
            errors=errors,
        )
    return dict(await repo.put_preferences(session, person_id, sorted(set(kinds)), now))
