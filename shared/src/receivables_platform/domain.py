"""What every aggregate shares: `decide(command, state) -> events`, `evolve(state, event) -> state`.

Aggregates are pure; a refusal is an exception carrying the field it is about,
so the HTTP layer can answer problem+json naming that field without the domain
knowing about HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import TypeVar

from receivables_platform.business_dates import business_dates
from receivables_platform.contracts.base import EventContract
from receivables_platform.money import MAX_MINOR

S = TypeVar("S")


class Refused(Exception):
    """The command is well-formed but the aggregate will not accept it."""

    def __init__(self, detail: str, *, field: str | None = None, title: str = "Command refused",
                 status: int = 422) -> None:
        super().__init__(detail)
        self.detail, self.field, self.title, self.status = detail, field, title, status


class NotFound(Refused):
    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail, field=field, title="Not found", status=404)


def require_amount(amount_minor: int, *, field: str, what: str) -> None:
    """Refuse an amount no receivable can hold, whichever door it came in by.

    The HTTP models cap amounts too, but imports, Stripe webhooks and case
    corrections reach the domain without them; an amount over `MAX_MINOR` would
    overflow the bigint sums every read model keeps.
    """
    if amount_minor <= 0:
        raise Refused(f"{what} must be above zero", field=field)
    if amount_minor > MAX_MINOR:
        raise Refused(f"{what} of {amount_minor} is more than the largest accepted, {MAX_MINOR}",
                      field=field)


def require_business_date(day: date, *, field: str, what: str) -> None:
    """Refuse a date the domain worked out (a due date from the terms) outside the business
    dates: the edges check what they are given, not what an aggregate derives from it."""
    settings = business_dates()
    if not settings.contains(day):
        raise Refused(f"{what} would be {day}, outside the business dates {settings.earliest} "
                      f"to {settings.latest}", field=field)


def fold(evolve: Callable[[S, EventContract], S], initial: S, events: Iterable[EventContract]) -> S:
    state = initial
    for event in events:
        state = evolve(state, event)
    return state
