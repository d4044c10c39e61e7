"""Business days: the cadence and promise deadlines count only days the team works.

Weekends and public holidays come from the `holidays` package (one country,
optionally a subdivision), plus the company's own closing days. Everything
date-based in the domain asks this calendar rather than `date.weekday()`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import holidays

SATURDAY, SUNDAY = 5, 6


@dataclass(frozen=True)
class BusinessCalendar:
    country: str | None = "US"
    subdivision: str | None = None
    weekend: frozenset[int] = frozenset({SATURDAY, SUNDAY})
    extra_closed: frozenset[date] = frozenset()
    _cache: dict[int, Collection[date]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(
        cls,
        country: str | None = "US",
        *,
        subdivision: str | None = None,
        closed: Iterable[date] = (),
        weekend: Iterable[int] = (SATURDAY, SUNDAY),
    ) -> BusinessCalendar:
        return cls(
            country=country,
            subdivision=subdivision,
            weekend=frozenset(weekend),
            extra_closed=frozenset(closed),
        )

    def _holidays(self, year: int) -> Collection[date]:
        if self.country is None:
            return frozenset()
        if year not in self._cache:
            self._cache[year] = frozenset(
                holidays.country_holidays(self.country, subdiv=self.subdivision, years=year)
            )
        return self._cache[year]

    def is_business_day(self, day: date) -> bool:
        return (
            day.weekday() not in self.weekend
            and day not in self.extra_closed
            and day not in self._holidays(day.year)
        )

    def on_or_after(self, day: date) -> date:
        """The day itself when the team works, else the next day it does."""
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def next_business_day(self, day: date) -> date:
        return self.on_or_after(day + timedelta(days=1))

    def previous_business_day(self, day: date) -> date:
        day -= timedelta(days=1)
        while not self.is_business_day(day):
            day -= timedelta(days=1)
        return day

    def add_business_days(self, day: date, count: int) -> date:
        """`count` business days after `day` (0: `day` itself, moved to a business day)."""
        day = self.on_or_after(day)
        for _ in range(count):
            day = self.next_business_day(day)
        return day
