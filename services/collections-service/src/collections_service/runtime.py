"""What the service needs beyond the platform's settings: its clock, calendar and mail server.

Read from the environment once per process; a test puts its own `Runtime`
in place (a fixed clock, a calendar, a loopback SMTP server) with
`use_runtime` before the server starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from collections_service.domain.calendar import BusinessCalendar
from collections_service.domain.clock import Clock, SystemClock


class CollectionsSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    smtp_url: str | None = Field(default=None, validation_alias="SMTP_URL")
    calendar_country: str | None = Field(default="US",
                                         validation_alias="COLLECTIONS_CALENDAR_COUNTRY")
    calendar_subdivision: str | None = Field(
        default=None, validation_alias="COLLECTIONS_CALENDAR_SUBDIVISION")
    closed_days: list[date] = Field(default_factory=list,
                                    validation_alias="COLLECTIONS_CLOSED_DAYS")
    timezone: str = Field(default="UTC", validation_alias="COLLECTIONS_TIMEZONE")
    daily_run: bool = Field(default=True, validation_alias="COLLECTIONS_DAILY_RUN")
    daily_run_at: time = Field(default=time(6, 0), validation_alias="COLLECTIONS_DAILY_RUN_AT")
    grace_days: int = Field(default=2, ge=0, le=30, validation_alias="COLLECTIONS_GRACE_DAYS")
    escalation_supervisor: str | None = Field(
        default=None, min_length=1, max_length=200,
        validation_alias="COLLECTIONS_ESCALATION_SUPERVISOR")
    """Whose worklist a cadence escalation lands on (a token's `sub`); unset: the unassigned
    worklist, which every supervisor sees."""


@dataclass
class Runtime:
    clock: Clock
    calendar: BusinessCalendar
    settings: CollectionsSettings = field(default_factory=CollectionsSettings)

    @classmethod
    def from_environment(cls) -> Runtime:
        settings = CollectionsSettings()
        return cls(clock=SystemClock(settings.timezone),
                   calendar=BusinessCalendar.of(settings.calendar_country,
                                                subdivision=settings.calendar_subdivision,
                                                closed=settings.closed_days),
                   settings=settings)


class _Current:
    runtime: Runtime | None = None


def current_runtime() -> Runtime:
    """The process's runtime: from the environment, unless a test put its own in place."""
    if _Current.runtime is None:
        _Current.runtime = Runtime.from_environment()
    return _Current.runtime


def use_runtime(value: Runtime | None) -> None:
    """Put a runtime in place for the whole process (API, consumers, scheduler); None resets."""
    _Current.runtime = value


async def runtime() -> Runtime:
    """Dependency: the process's runtime (`async`, so FastAPI does not run it in a thread)."""
    return current_runtime()
