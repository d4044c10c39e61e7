"""The reporting service's notion of now, injectable so end of day and "today" are testable.

Production reads the system clock in UTC. A test (or a replay of a past day)
sets `app.state.clock` to any callable returning an aware datetime.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from fastapi import Request

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def clock_of(request: Request) -> Clock:
    clock: Clock = getattr(request.app.state, "clock", system_clock)
    return clock


def today(request: Request) -> date:
    """Business dates are UTC dates (docs/architecture.md#dates)."""
    return clock_of(request)().astimezone(UTC).date()
