"""The edge both receivers of mail to the desk (SMTP, IMAP) call: one transaction per mail,
committed before they answer, and the metrics of what was taken in."""

from __future__ import annotations

import logging
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stopclock_shared.db import utc_now
from stopclock_shared.outbox import Outbox

from . import metrics
from .repository import sql_unit_of_work
from .settings import NotificationSettings
from .use_cases.inbound import InboundDesk, Received, Status, Taken, take_in

log = logging.getLogger(__name__)


class Intake:
    """Takes in one received mail (`use_cases.inbound.take_in`) in its own transaction."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], outbox: Outbox, desk: InboundDesk
    ) -> None:
        self.sessionmaker = sessionmaker
        self.outbox = outbox
        self.desk = desk

    async def __call__(self, received: Received) -> Taken:
        start = time.perf_counter()
        async with self.sessionmaker() as session, session.begin():
            uow = sql_unit_of_work(session, self.outbox)
            taken = await take_in(uow, self.desk, received, utc_now())
        metrics.INBOUND_PROCESSING.observe(time.perf_counter() - start)
        if taken.status is Status.ACCEPTED and taken.outcome is not None:
            metrics.INBOUND_MAILS.labels(taken.outcome.value).inc()
        elif taken.status is Status.RATE_LIMITED:
            metrics.INBOUND_REFUSED.labels("rate_limited").inc()
        log.info(
            "inbound mail %s: %s %s",
            taken.inbound_id,
            taken.status.value,
            taken.outcome.value if taken.outcome else "",
            extra={"ticket_id": taken.ticket_id, "detail": taken.detail},
        )
        return taken


def inbound_desk_of(s: NotificationSettings) -> InboundDesk:
    """What taking in a mail needs of the settings."""
    limits = (s.inbound_rate_per_hour, s.inbound_keep_raw_bytes)
    return InboundDesk(s.desk_address, s.link_key, *limits, s.message_id_domain)
