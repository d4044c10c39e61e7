"""The clock is injected: the daily run, deadlines and tests all ask it for "now"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self) -> date: ...


@dataclass(frozen=True)
class SystemClock:
    """Wall time; `today` is the date in the team's time zone, not UTC's."""

    timezone: str = "UTC"

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.timezone)).date()


@dataclass
class FixedClock:
    """A clock that says what it is told: for tests and for replaying a past day."""

    instant: datetime

    def now(self) -> datetime:
        return self.instant

    def today(self) -> date:
        return self.instant.date()
