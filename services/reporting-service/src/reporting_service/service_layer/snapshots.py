"""End-of-day aging snapshots and the aging trend built from them.

A day can be snapshotted once it is over (by the injected clock, in the team's
time zone): a snapshot of today would freeze a day that still has payments to
come. The job runs in the service process and takes yesterday's snapshot soon after
midnight; the endpoint lets an operator take a missed day by hand.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import asyncpg
import structlog

from receivables_platform.business_dates import business_dates
from receivables_platform.web.app import ServiceState, Worker
from reporting_service.adapters import snapshots as store
from reporting_service.clock import Clock, system_clock
from reporting_service.domain.aging import DEFAULT_UPPER_BOUNDS, buckets
from reporting_service.domain.kpis import Period, ratio

log = structlog.get_logger("reporting_service.snapshots")


class DayNotOver(ValueError):
    pass


class InvalidRange(ValueError):
    pass


async def snapshot_day(conn: asyncpg.Connection, day: date, today: date) -> store.SnapshotRun:
    if day >= today:
        raise DayNotOver(f"{day} is not over yet (today is {today}); snapshots are end of day")
    return await store.take_snapshot(conn, day, buckets(DEFAULT_UPPER_BOUNDS), DEFAULT_UPPER_BOUNDS)


MAX_BACKFILL_DAYS = 400
"""A year and a month: enough for a year's trend against the month before, in one request."""


async def backfill(
    conn: asyncpg.Connection, start: date, end: date, today: date
) -> list[store.SnapshotRun]:
    """Every finished day from `start` to `end` snapshotted from the read model, which holds
    each invoice's dated history: the trend is not empty for the days before go-live.
    Days taken already keep their snapshot (an empty one is taken again)."""
    if end < start:
        raise InvalidRange("the range ends on or after the day it starts")
    if (end - start).days + 1 > MAX_BACKFILL_DAYS:
        raise InvalidRange(f"at most {MAX_BACKFILL_DAYS} days at a time")
    if end >= today:
        raise DayNotOver(f"{end} is not over yet (today is {today}); snapshots are end of day")
    return [
        await snapshot_day(conn, start + timedelta(offset), today)
        for offset in range((end - start).days + 1)
    ]


async def take_due_snapshot(pool: asyncpg.Pool, clock: Clock) -> store.SnapshotRun | None:
    """Yesterday's snapshot, unless it was taken already (then nothing happens)."""
    today = business_dates().today(clock())
    yesterday = today - timedelta(1)
    async with pool.acquire() as conn:
        if await store.snapshot_taken(conn, yesterday):
            return None
        run = await snapshot_day(conn, yesterday, today)
    log.info("aging.snapshot_taken", snapshot_date=str(yesterday), rows=run.rows)
    return run


def snapshot_worker(clock: Clock = system_clock, interval: float = 60.0) -> Worker:
    async def end_of_day_snapshots(state: ServiceState) -> None:
        while True:
            try:
                await take_due_snapshot(state.pool, clock)
            except (OSError, asyncpg.PostgresError):
                log.exception("aging.snapshot_failed")
            await asyncio.sleep(interval)

    return end_of_day_snapshots


def _last(points: list[dict[str, Any]]) -> dict[str, Any] | None:
    return points[-1] if points else None


def _change(this: dict[str, Any] | None, last: dict[str, Any] | None, key: str) -> dict[str, Any]:
    now = this[key] if this else None
    before = last[key] if last else None
    reduction = None
    if now is not None and before is not None:
        share = ratio(before - now, before)
        reduction = None if share is None else round(float(share * 100), 2)
    return {
        "this_period_minor": now,
        "last_period_minor": before,
        "change_minor": None if now is None or before is None else now - before,
        "reduction_pct": reduction,
    }


async def aging_trend(
    conn: asyncpg.Connection,
    currency: str,
    period: Period,
    collector_id: str | None = None,
    segment: str | None = None,
) -> dict[str, Any]:
    """Daily past-due and 61+ balances over this period and the one before, and the
    reduction between the last snapshot of each ("reduction in aging balances")."""
    previous = period.previous()
    points = await store.daily_balances(
        conn, currency, previous.start, period.end, collector_id, segment
    )
    this = _last([p for p in points if p["date"] >= period.start])
    last = _last([p for p in points if p["date"] < period.start])
    return {
        "currency": currency,
        "period": {"start": period.start, "end": period.end},
        "previous_period": {"start": previous.start, "end": previous.end},
        "points": points,
        "past_due": _change(this, last, "past_due_minor"),
        "over_60": _change(this, last, "over_60_minor"),
        "total": _change(this, last, "total_minor"),
    }
