"""What every aggregate shares: `decide(command, state) -> events`, `evolve(state, event) -> state`.

Aggregates are pure; a refusal is an exception carrying the field it is about
and its kind (`RefusalKind`): why the domain says no, in the domain's words.
`receivables_platform.web.refusals` is the one place a kind becomes an HTTP
status, so a status code is never chosen inside a decision and every door
(HTTP, a file import, a webhook) reads the same kind. docs/adr/0006 says why.

A service adopts it by raising `Refused(detail, field=..., title=...,
kind=RefusalKind.CONFLICT)`; `NotFound` is the not-found kind by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from enum import StrEnum
from typing import TypeVar

from receivables_platform.business_dates import business_dates
from receivables_platform.contracts.base import EventContract
from receivables_platform.money import MAX_MINOR

S = TypeVar("S")


class RefusalKind(StrEnum):
    """Why a command is refused; each door decides what that means to its caller."""

    INVALID = "invalid"
    """The command breaks a rule whatever the aggregate's state (a negative amount)."""
    CONFLICT = "conflict"
    """The aggregate's current state forbids it (already issued, closed, reversed)."""
    NOT_FOUND = "not_found"
    """What the command is about does not exist."""
    NOT_PERMITTED = "not_permitted"
    """The rules let someone do this, but not whoever asked (another collector's task)."""
    UNAVAILABLE = "unavailable"
    """Something the use case needs is not configured here (no mail server)."""
    UPSTREAM_FAILED = "upstream_failed"
    """Something the use case needs failed while doing it (the mail server refused)."""


_KIND_OF_STATUS = {
    409: RefusalKind.CONFLICT,
    404: RefusalKind.NOT_FOUND,
    403: RefusalKind.NOT_PERMITTED,
    422: RefusalKind.INVALID,
    503: RefusalKind.UNAVAILABLE,
    502: RefusalKind.UPSTREAM_FAILED,
}


class Refused(Exception):
    """The command is well-formed but the aggregate will not accept it."""

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        title: str = "Command refused",
        kind: RefusalKind = RefusalKind.INVALID,
        status: int | None = None,
    ) -> None:
        # `status` is how collections-service still names its refusals (and its tests read
        # it back); it becomes a kind here until that service raises kinds, then it goes
        super().__init__(detail)
        self.detail, self.field, self.title, self.status = detail, field, title, status
        self.kind = kind if status is None else _KIND_OF_STATUS[status]


class NotFound(Refused):
    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail, field=field, title="Not found", kind=RefusalKind.NOT_FOUND)


def require_amount(amount_minor: int, *, field: str, what: str) -> None:
    """Refuse an amount no receivable can hold, whichever door it came in by.

    The HTTP models cap amounts too, but imports, Stripe webhooks and case
    corrections reach the domain without them; an amount over `MAX_MINOR` would
    overflow the bigint sums every read model keeps.
    """
    if amount_minor <= 0:
        raise Refused(f"{what} must be above zero", field=field)
    if amount_minor > MAX_MINOR:
        raise Refused(
            f"{what} of {amount_minor} is more than the largest accepted, {MAX_MINOR}", field=field
        )


def require_business_date(day: date, *, field: str, what: str) -> None:
    """Refuse a date the domain worked out (a due date from the terms) outside the business
    dates: the edges check what they are given, not what an aggregate derives from it."""
    settings = business_dates()
    if not settings.contains(day):
        raise Refused(
            f"{what} would be {day}, outside the business dates {settings.earliest} "
            f"to {settings.latest}",
            field=field,
        )


def fold(evolve: Callable[[S, EventContract], S], initial: S, events: Iterable[EventContract]) -> S:
    state = initial
    for event in events:
        state = evolve(state, event)
    return state
