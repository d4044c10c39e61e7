"""Daily aging snapshots: taken once per date, read back as a trend.

The snapshot is aging as of the date (the same SQL as `GET /v1/aging`),
grouped by currency, segment, collector and team, stored with the run row in
one transaction. The run row's primary key makes a second request for the
same date a no-op that returns the stored snapshot, whoever races for it;
except when the stored snapshot is empty (taken before the history was
projected, as on go-live): that day is taken again from the read model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from reporting_service.adapters.aging_query import OPEN_INVOICES_SQL, bucket_case, flagged_sql
from reporting_service.domain.aging import Bucket


@dataclass(frozen=True)
class SnapshotRun:
    snapshot_date: date
    created: bool  # False: it had been taken before, nothing changed
    rows: int
    totals_minor: dict[str, int]  # per currency


def _insert_sql(all_buckets: list[Bucket]) -> str:
    labels = ", ".join(f"'{b.key}'" for b in all_buckets)
    lowers = ", ".join("NULL" if b.lower is None else str(int(b.lower)) for b in all_buckets)
    # only bucket labels built from integers are interpolated
    return f"""
    INSERT INTO aging_snapshots (snapshot_date, currency, segment, collector_id, team, bucket,
                                 bucket_lower_days, amount_minor, invoices, on_hold_minor,
                                 in_dispute_minor)
    WITH open_invoices AS ({OPEN_INVOICES_SQL}),
    flagged AS ({flagged_sql()}),
    bucketed AS MATERIALIZED (SELECT *, {bucket_case(all_buckets)} AS bucket FROM flagged)
    SELECT $1::date, currency, segment, collector_id, team,
           (ARRAY[{labels}])[bucket + 1], (ARRAY[{lowers}]::int[])[bucket + 1],
           sum(open_minor), sum(invoices),
           coalesce(sum(open_minor) FILTER (WHERE on_hold), 0),
           coalesce(sum(open_minor) FILTER (WHERE in_dispute), 0)
    FROM bucketed
    GROUP BY currency, segment, collector_id, team, bucket
    """  # noqa: S608


async def take_snapshot(
    conn: asyncpg.Connection, day: date, all_buckets: list[Bucket], bounds: tuple[int, ...]
) -> SnapshotRun:
    async with conn.transaction():
        inserted = await conn.fetchval(
            "INSERT INTO aging_snapshot_runs (snapshot_date, bucket_bounds) VALUES ($1, $2) "
            "ON CONFLICT (snapshot_date) DO NOTHING RETURNING snapshot_date",
            day,
            list(bounds),
        )
        if inserted is None:
            # the run row's lock orders racers; each statement after it sees what the
            # winner committed, so an empty day is retaken once
            await conn.execute(
                "SELECT 1 FROM aging_snapshot_runs WHERE snapshot_date = $1 FOR UPDATE", day
            )
            if not await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM aging_snapshots WHERE snapshot_date = $1)", day
            ):
                inserted = await conn.fetchval(
                    "UPDATE aging_snapshot_runs SET taken_at = now(), bucket_bounds = $2 "
                    "WHERE snapshot_date = $1 RETURNING snapshot_date",
                    day,
                    list(bounds),
                )
        if inserted is not None:
            await conn.execute(_insert_sql(all_buckets), day, None, None, None, None, None)
    totals = await conn.fetch(
        "SELECT currency, sum(amount_minor) AS total, count(*) AS n FROM aging_snapshots "
        "WHERE snapshot_date = $1 GROUP BY currency ORDER BY currency",
        day,
    )
    return SnapshotRun(
        day,
        inserted is not None,
        sum(r["n"] for r in totals),
        {r["currency"]: int(r["total"]) for r in totals},
    )


async def snapshot_taken(conn: asyncpg.Connection, day: date) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM aging_snapshot_runs WHERE snapshot_date = $1)", day
        )
    )


async def daily_balances(
    conn: asyncpg.Connection,
    currency: str,
    start: date,
    end: date,
    collector_id: str | None = None,
    segment: str | None = None,
) -> list[dict[str, Any]]:
    """Per snapshot date: total, past due (1+ days) and 61+ days past due."""
    rows = await conn.fetch(
        """
        SELECT snapshot_date, sum(amount_minor) AS total,
               coalesce(sum(amount_minor) FILTER (WHERE bucket_lower_days >= 1), 0) AS past_due,
               coalesce(sum(amount_minor) FILTER (WHERE bucket_lower_days >= 61), 0) AS over_60
        FROM aging_snapshots
        WHERE currency = $1 AND snapshot_date BETWEEN $2 AND $3
          AND ($4::text IS NULL OR collector_id = $4) AND ($5::text IS NULL OR segment = $5)
        GROUP BY snapshot_date ORDER BY snapshot_date""",
        currency,
        start,
        end,
        collector_id,
        segment,
    )
    return [
        {
            "date": r["snapshot_date"],
            "total_minor": int(r["total"]),
            "past_due_minor": int(r["past_due"]),
            "over_60_minor": int(r["over_60"]),
        }
        for r in rows
    ]
