"""Business dates: the one range of dates the platform accepts, and "today" for the team.

An integration that sends a placeholder date (.NET's 0001-01-01, a far-future 9999-12-31)
must be refused at the door, not stored: PostgreSQL drivers turn such dates into
`-infinity`/`infinity`, and day arithmetic on them breaks every read that meets them.
The range is one setting for every service so that what billing accepts, reporting can
always read. "Today" is the date in the team's time zone (`TEAM_TIMEZONE`), so a US team's
late-afternoon entry is not dated tomorrow.

`BusinessDate` is the type of every business date a request, an import row or a
webhook carries: an ISO 8601 calendar date (`YYYY-MM-DD`) inside the range. Pydantic's
own `date` also reads numbers and numeric strings as Unix timestamps (`0` and `"0"` are
1970-01-01), which turns a client's placeholder into a real day. Event contracts keep
plain `date`: events stored before the range existed must still decode, and consumers
set such events aside instead (`receivables_platform.consumer.set_aside`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

_CALENDAR_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def parse_calendar_date(value: Any) -> date:
    """`YYYY-MM-DD` text or a `date` (not a datetime): nothing a client could mean otherwise.

    A number, a timestamp, a week date or a date with a time is refused rather than
    guessed at; so is a day the calendar does not have (2026-02-30, year 0).
    """
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _CALENDAR_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError(
                "date_not_on_calendar", "{value} is not a day of the calendar", {"value": value}
            ) from None
    raise PydanticCustomError(
        "date_format", "a date is an ISO 8601 calendar date written YYYY-MM-DD"
    )


CalendarDate = Annotated[date, BeforeValidator(parse_calendar_date)]


class BusinessDateSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    team_timezone: str = Field(default="UTC", validation_alias="TEAM_TIMEZONE")
    """The team's IANA time zone (`Europe/Berlin`): what today, a business day, a send window
    and a reporting day mean, in every service."""
    earliest: CalendarDate = Field(default=date(1990, 1, 1), validation_alias="BUSINESS_DATE_MIN")
    """The earliest business date (issue, due, payment) an input may carry; older is refused
    as a typo."""
    latest: CalendarDate = Field(default=date(2099, 12, 31), validation_alias="BUSINESS_DATE_MAX")
    """The latest business date an input may carry; later is refused as a typo."""

    @model_validator(mode="after")
    def _ordered(self) -> BusinessDateSettings:
        if self.earliest > self.latest:
            raise ValueError("BUSINESS_DATE_MIN must not be after BUSINESS_DATE_MAX")
        ZoneInfo(self.team_timezone)  # an unknown zone fails at start, not on first use
        return self

    def contains(self, day: date) -> bool:
        return self.earliest <= day <= self.latest

    def today(self, now: datetime | None = None) -> date:
        """The team's date at `now` (wall time when not given)."""
        instant = now if now is not None else datetime.now(UTC)
        return instant.astimezone(ZoneInfo(self.team_timezone)).date()


@lru_cache(maxsize=1)
def business_dates() -> BusinessDateSettings:
    """The process's settings, read from the environment once."""
    return BusinessDateSettings()


def within_business_dates(day: date) -> date:
    """The range check on its own, for dates that arrive as `date` (a Stripe timestamp's day)."""
    if not business_dates().contains(day):
        raise _outside_the_range("date_out_of_range", day.isoformat())
    return day


def _outside_the_range(kind: str, value: str) -> PydanticCustomError:
    settings = business_dates()
    return PydanticCustomError(
        kind,
        "{value} is outside the business dates {earliest} to {latest}",
        {
            "value": value,
            "earliest": settings.earliest.isoformat(),
            "latest": settings.latest.isoformat(),
        },
    )


BusinessDate = Annotated[
    date, BeforeValidator(parse_calendar_date), AfterValidator(within_business_dates)
]
"""A business date as the edges accept it: `YYYY-MM-DD`, between BUSINESS_DATE_MIN and MAX."""


def parse_instant(value: Any) -> datetime:
    """`YYYY-MM-DDTHH:MM[:SS[.ffffff]]` with `Z` or `+hh:mm` (RFC 3339), or an aware `datetime`.

    A bare number would be read as Unix seconds and a time without an offset is a
    different instant in every time zone; comparing it with the server's aware clock
    fails, so it is refused here, at the edge, rather than guessed at.
    """
    if isinstance(value, str) and _INSTANT.fullmatch(value):
        try:
            value = datetime.fromisoformat(value.upper())
        except ValueError:
            raise PydanticCustomError(
                "datetime_not_on_calendar",
                "{value} is not a moment of the calendar",
                {"value": value},
            ) from None
    if not isinstance(value, datetime):
        raise PydanticCustomError(
            "datetime_format",
            "an instant is an ISO 8601 date-time with an offset, e.g. 2026-01-05T09:30:00Z",
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError(
            "datetime_offset_missing",
            "an instant needs its UTC offset (Z or +hh:mm): without one it names no moment",
        )
    return value


def within_business_instants(moment: datetime) -> datetime:
    """An instant's UTC date in the business range, so no year-1 or 9999 moment is stored.

    Taken in UTC (not the team's zone) because that is how instants are stored; the
    range's edges are decades from any real moment, so the zone never decides a case.
    """
    try:
        day = moment.astimezone(UTC).date()
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        day = date.min
    if not business_dates().contains(day):
        raise _outside_the_range("datetime_out_of_range", moment.isoformat())
    return moment


BusinessInstant = Annotated[
    datetime, BeforeValidator(parse_instant), AfterValidator(within_business_instants)
]
"""A request's instant: ISO 8601 with an offset, its UTC date between BUSINESS_DATE_MIN and MAX."""
