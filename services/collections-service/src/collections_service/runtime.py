"""What the service needs beyond the platform's settings: its clock, calendar and mail server.

The spec composes it from the environment once, when the app is built
(`Runtime.from_environment`, the composition root); routes, the consumer and the
daily run are handed that one object. A test builds its own `Runtime` (a fixed
clock, a calendar, a loopback SMTP server) and passes it to `build_app`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Annotated, Protocol
from uuid import UUID

from fastapi import Request
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from collections_service.domain.calendar import BusinessCalendar
from collections_service.domain.clock import Clock, SystemClock
from receivables_platform.web.app import composed

Weekday = Annotated[int, Field(ge=0, le=6)]


class CollectionsSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    smtp_url: str | None = Field(default=None, validation_alias="SMTP_URL")
    """Where dunning and contact emails are sent (the shared SMTP_URL); unset: none is sent."""
    calendar_country: str | None = Field(default="US",
                                         validation_alias="COLLECTIONS_CALENDAR_COUNTRY")
    """ISO 3166 country whose public holidays are not business days (`US`, `DE`); empty: none."""
    calendar_subdivision: str | None = Field(
        default=None, validation_alias="COLLECTIONS_CALENDAR_SUBDIVISION")
    """The state or province whose holidays are added (`CA`, `BY`)."""
    closed_days: list[date] = Field(default_factory=list,
                                    validation_alias="COLLECTIONS_CLOSED_DAYS")
    """Further days the team is closed, a JSON list of ISO dates (`["2026-12-24"]`)."""
    weekend: list[Weekday] = Field(default_factory=lambda: [5, 6], max_length=7,
                                   validation_alias="COLLECTIONS_WEEKEND")
    """Weekdays the team does not work (0 Monday .. 6 Sunday); `[]` for a team that works
    every day."""
    timezone: str = Field(default="UTC", validation_alias="COLLECTIONS_TIMEZONE")
    """The IANA time zone of the daily run and of collections' today (`America/Chicago`)."""
    daily_run: bool = Field(default=True, validation_alias="COLLECTIONS_DAILY_RUN")
    """Run the daily cadence (tasks due, promises judged, missed tasks) in this process."""
    daily_run_at: time = Field(default=time(6, 0), validation_alias="COLLECTIONS_DAILY_RUN_AT")
    """The wall time (COLLECTIONS_TIMEZONE) the daily run starts, before collectors begin."""
    grace_days: int = Field(default=2, ge=0, le=30, validation_alias="COLLECTIONS_GRACE_DAYS")
    """Business days after its promised date a promise to pay may still be kept, when the
    promise names none."""
    escalation_supervisor: str | None = Field(
        default=None, min_length=1, max_length=200,
        validation_alias="COLLECTIONS_ESCALATION_SUPERVISOR")
    """Whose worklist a cadence escalation lands on (a token's `sub`); unset: the unassigned
    worklist, which every supervisor sees."""
    dunning: bool = Field(default=True, validation_alias="COLLECTIONS_DUNNING")
    """Send email cadence steps automatically; false leaves them on the worklist for people."""
    dunning_window_start: time = Field(default=time(8, 0), validation_alias="DUNNING_WINDOW_START")
    """The wall time (team time zone) from which dunning emails go out."""
    dunning_window_end: time = Field(default=time(17, 0), validation_alias="DUNNING_WINDOW_END")
    """Emails go out between these wall times in the team's time zone (TEAM_TIMEZONE)."""
    dunning_per_minute: int = Field(default=60, ge=1, le=10_000,
                                    validation_alias="DUNNING_SENDS_PER_MINUTE")
    """At most this many dunning emails in any minute, across every replica."""
    dunning_poll_seconds: float = Field(default=60.0, gt=0, le=3600,
                                        validation_alias="DUNNING_POLL_SECONDS")
    """How often the dunning sender looks for email steps due."""
    dunning_to_roles: list[str] = Field(default_factory=lambda: ["billing"],
                                        validation_alias="DUNNING_TO_ROLES")
    """Contact roles a dunning email is addressed to (JSON list); an account whose contacts
    carry no role gets its first contact with an email."""
    dunning_cc_roles: list[str] = Field(default_factory=lambda: ["billing_cc"],
                                        validation_alias="DUNNING_CC_ROLES")
    """Contact roles copied on a dunning email (JSON list)."""
    pay_link_url_template: str | None = Field(default=None,
                                              validation_alias="PAY_LINK_URL_TEMPLATE")
    """A pay link for providers without an API, e.g. https://pay.example/a/{account_id}."""
    remittance: str | None = Field(default=None, max_length=2000,
                                   validation_alias="REMITTANCE_INSTRUCTIONS")
    """How to pay by transfer, for the `remittance` placeholder of templates."""


class PayLinks(Protocol):
    """Where a statement's `pay_link` comes from: a URL template by default; billing's
    payment provider (Stripe) when one is wired in."""

    async def for_account(self, account_id: UUID) -> str | None: ...


@dataclass(frozen=True)
class UrlTemplatePayLinks:
    """`PAY_LINK_URL_TEMPLATE` with `{account_id}` filled in; no template, no link."""

    template: str | None

    async def for_account(self, account_id: UUID) -> str | None:
        return self.template.format(account_id=account_id) if self.template else None


@dataclass
class Runtime:
    clock: Clock
    calendar: BusinessCalendar
    settings: CollectionsSettings = field(default_factory=CollectionsSettings)
    pay_links: PayLinks | None = None

    def pay_link_source(self) -> PayLinks:
        return self.pay_links or UrlTemplatePayLinks(self.settings.pay_link_url_template)

    @classmethod
    def from_environment(cls) -> Runtime:
        settings = CollectionsSettings()
        return cls(clock=SystemClock(settings.timezone),
                   calendar=BusinessCalendar.of(settings.calendar_country or None,
                                                subdivision=settings.calendar_subdivision,
                                                closed=settings.closed_days,
                                                weekend=settings.weekend),
                   settings=settings)


async def runtime(request: Request) -> Runtime:
    """Dependency: the runtime the app was built with (`async`: no worker thread for this)."""
    return composed(request, Runtime)
