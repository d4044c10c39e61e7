"""The daily run, on its own every morning: each process schedules it, the run's lock and
its idempotency make extra replicas harmless. A process that starts after today's run time
runs it at once (a missed morning catches up), then sleeps until the next one.

`COLLECTIONS_DAILY_RUN=false` turns it off (a platform team that drives the run from a
Kubernetes CronJob calling `POST /v1/cadence/runs` instead); `COLLECTIONS_DAILY_RUN_AT` is
the time of day in `COLLECTIONS_TIMEZONE`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from collections_service.runtime import Runtime
from collections_service.service_layer.cadence import run_day
from collections_service.service_layer.dunning import send_due
from receivables_platform.web.app import ServiceState, composed

log = structlog.get_logger("collections_service.scheduler")
RETRY_AFTER = timedelta(minutes=5)


def next_run(now: datetime, at: datetime) -> datetime:
    """`at` today if it has not passed, else tomorrow's (both in the team's time zone)."""
    return at if at > now else at + timedelta(days=1)


async def dunning_sender(state: ServiceState) -> None:
    """Email steps out on their day: a pass every DUNNING_POLL_SECONDS (claims make extra
    replicas harmless; outside the send window a pass sends nothing)."""
    runtime = composed(state, Runtime)
    while True:
        try:
            if runtime.settings.dunning:
                summary = await send_due(state.pool, runtime)
                if summary.sent or summary.failed or summary.withheld:
                    log.info("dunning.pass", **vars(summary))
        except Exception as exc:  # one failed pass must not stop the next: log, go on
            log.exception("dunning.pass_failed", error=type(exc).__name__)
        await asyncio.sleep(runtime.settings.dunning_poll_seconds)


async def daily_run(state: ServiceState) -> None:
    runtime = composed(state, Runtime)
    settings = runtime.settings
    if not settings.daily_run:
        return
    zone = ZoneInfo(settings.timezone)
    due_now = True
    while True:
        now = runtime.clock.now().astimezone(zone)
        if not due_now:
            at = datetime.combine(now.date(), settings.daily_run_at, tzinfo=zone)
            await asyncio.sleep((next_run(now, at) - now).total_seconds())
        due_now = False
        today = runtime.clock.today()
        try:
            summary = await run_day(state.pool, today, runtime)
            log.info("cadence.daily_run", **vars(summary))
        except Exception as exc:  # a failed morning must not stop tomorrow's: log, retry soon
            log.exception(
                "cadence.daily_run_failed", business_date=str(today), error=type(exc).__name__
            )
            await asyncio.sleep(RETRY_AFTER.total_seconds())
            due_now = True
