"""The reporting service's notion of now, injectable so end of day and "today" are testable.

Production reads the system clock. A test (or a replay of a past day) sets
`app.state.clock` to any callable returning an aware datetime. "Today" is the
team's date (TEAM_TIMEZONE), as in every service.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from fastapi import Request

from receivables_platform.business_dates import business_dates

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def clock_of(request: Request) -> Clock:
    clock: Clock = getattr(request.app.state, "clock", system_clock)
    return clock


def today(request: Request) -> date:
    """The team's date now: a US team's late afternoon is still today, not tomorrow."""
    return business_dates().today(clock_of(request)())
