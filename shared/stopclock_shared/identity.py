"""Who is acting: the roles of the contract and the principal a token names. Pure (no web
framework), so domain rules use it directly; `auth` reads it from bearer tokens."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .events.vocabulary import STAFF, Role

__all__ = ["STAFF", "Principal", "Role"]  # the roles are contract words (vocabulary.toml)


@dataclass(frozen=True, slots=True)
class Principal:
    """The JWT ``sub`` and ``roles`` (a person's id, or ``system:<service>``)."""

    sub: str
    roles: frozenset[Role]

    @property
    def id(self) -> str:
        """The person (or system) acting: the token's subject."""
        return self.sub

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF)

    def has_any(self, roles: Iterable[Role]) -> bool:
        return bool(self.roles & frozenset(roles))
