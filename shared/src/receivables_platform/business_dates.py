"""Business dates: the one range of dates the platform accepts, and "today" for the team.

An integration that sends a placeholder date (.NET's 0001-01-01, a far-future 9999-12-31)
must be refused at the door, not stored: PostgreSQL drivers turn such dates into
`-infinity`/`infinity`, and day arithmetic on them breaks every read that meets them.
The range is one setting for every service so that what billing accepts, reporting can
always read. "Today" is the date in the team's time zone (`TEAM_TIMEZONE`), so a US team's
late-afternoon entry is not dated tomorrow.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class BusinessDateSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    team_timezone: str = Field(default="UTC", validation_alias="TEAM_TIMEZONE")
    earliest: date = Field(default=date(1990, 1, 1), validation_alias="BUSINESS_DATE_MIN")
    latest: date = Field(default=date(2099, 12, 31), validation_alias="BUSINESS_DATE_MAX")

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
