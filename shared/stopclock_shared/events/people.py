"""``people.events`` (key: person id): the directory's changes, and the person snapshot
that other payloads carry."""

from __future__ import annotations

from .payload import Payload


class PersonRef(Payload):
    id: str
    name: str
    email: str
    timezone: str = "UTC"
    locale: str = "en"
    vip: bool = False
    difficult: bool = False
    manager_id: str | None = None
    manager_email: str | None = None
    manager_name: str | None = None


class PersonUpdated(Payload):
    """A person was created or changed in the directory (key: person id)."""

    person: PersonRef
