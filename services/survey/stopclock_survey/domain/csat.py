"""CSAT figures: response rate and the share of satisfied answers (ratings 4 and 5).

The input is one outcome per *sent* survey (rating None while unanswered or
expired) rather than answers plus separate sent counts: ``answered <= sent`` then
holds by construction, in total and per service, whatever filter the caller used.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

SATISFIED_AT_OR_ABOVE = 4
# Key for tickets without a service; parenthesised so it cannot clash with a real name.
NO_SERVICE = "(none)"


@dataclass(frozen=True, slots=True)
class SurveyOutcome:
    """One sent survey: the ticket's service, whether an SLA was breached, the rating."""

    service: str | None
    after_breach: bool
    rating: int | None = None


@dataclass(frozen=True, slots=True)
class AnsweredFigures:
    answered: int
    csat: float | None


@dataclass(frozen=True, slots=True)
class ServiceFigures:
    sent: int
    answered: int
    csat: float | None


@dataclass(frozen=True, slots=True)
class CsatStats:
    sent: int
    answered: int
    response_rate: float | None
    csat: float | None
    by_service: Mapping[str, ServiceFigures]
    after_breach: AnsweredFigures
    without_breach: AnsweredFigures


def csat_of(ratings: Iterable[int]) -> float | None:
    """Share of ratings that are 4 or 5; None when there are none."""
    values = list(ratings)
    if not values:
        return None
    return sum(r >= SATISFIED_AT_OR_ABOVE for r in values) / len(values)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def stats(outcomes: Iterable[SurveyOutcome]) -> CsatStats:
    """Totals, per service (sorted by name), and answered-after-breach versus not."""
    sent_by_service: dict[str, int] = defaultdict(int)
    ratings_by_service: dict[str, list[int]] = defaultdict(list)
    ratings_by_breach: dict[bool, list[int]] = {True: [], False: []}
    for outcome in outcomes:
        service = outcome.service if outcome.service is not None else NO_SERVICE
        sent_by_service[service] += 1
        if outcome.rating is not None:
            ratings_by_service[service].append(outcome.rating)
            ratings_by_breach[outcome.after_breach].append(outcome.rating)
    every_rating = [r for ratings in ratings_by_service.values() for r in ratings]
    sent = sum(sent_by_service.values())
    return CsatStats(
        sent=sent,
        answered=len(every_rating),
        response_rate=_ratio(len(every_rating), sent),
        csat=csat_of(every_rating),
        by_service={
            service: ServiceFigures(
                sent=count,
                answered=len(ratings_by_service[service]),
                csat=csat_of(ratings_by_service[service]),
            )
            for service, count in sorted(sent_by_service.items())
        },
        after_breach=AnsweredFigures(
            len(ratings_by_breach[True]), csat_of(ratings_by_breach[True])
        ),
        without_breach=AnsweredFigures(
            len(ratings_by_breach[False]), csat_of(ratings_by_breach[False])
        ),
    )
