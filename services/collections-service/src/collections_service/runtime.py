"""What the service needs beyond the platform's settings: its clock, calendar and mail server.

The spec composes it from the environment once, when the app is built
(`Runtime.from_environment`, the composition root); routes, the consumer and the
daily run are handed that one object. A test builds its own `Runtime` (a fixed
clock, a calendar, a loopback SMTP server) and passes it to `build_app`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from fastapi import Request
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from collections_service.domain.calendar import BusinessCalendar
from collections_service.domain.clock import Clock, SystemClock
from receivables_platform.web.app import composed


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


async def runtime(request: Request) -> Runtime:
    """Dependency: the runtime the app was built with (`async`: no worker thread for this)."""
    return composed(request, Runtime)
