"""What the notification service does, one function per use case, on a
`UnitOfWork[NotificationRepository]`: free of HTTP and SQL, so each is unit-tested on fakes.

- `mails`: the mails an event causes, recorded for the senders;
- `sending`: claiming due mails, writing them, recording what the SMTP server said;
- `inbound`: taking in a mail to the desk and the ticket commands it causes;
- `replicas`: the tickets and people inbound mail decides on, kept from events;
- `preferences`, `reads`: what the HTTP API offers.
"""

from stopclock_shared.unit_of_work import UnitOfWork

from ..repository import NotificationRepository

NotificationUnitOfWork = UnitOfWork[NotificationRepository]

__all__ = ["NotificationUnitOfWork"]
