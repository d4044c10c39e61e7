"""The benchmark's read model: when each event became visible, measured in the database clock."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from receivables_platform.envelope import CloudEvent

CREATE = """
CREATE TABLE IF NOT EXISTS bench_visibility (
    event_id    text PRIMARY KEY,
    recorded_at timestamptz NOT NULL,
    visible_at  timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""


async def record_visibility_one_by_one(conn: asyncpg.Connection, event: CloudEvent) -> None:
    await conn.execute(
        "INSERT INTO bench_visibility (event_id, recorded_at) VALUES ($1, $2)", event.id, event.time
    )


class RecordVisibility:
    """One event, or a poll's events in one statement (the consumer runner's `AppliesMany`),
    as reporting's projection of InvoiceIssued does: a read model written one statement an
    event makes the consumer, not the platform, what a saturation run measures."""

    async def __call__(self, conn: asyncpg.Connection, event: CloudEvent) -> None:
        await record_visibility_one_by_one(conn, event)

    async def many(self, conn: asyncpg.Connection, events: Sequence[CloudEvent]) -> None:
        await conn.execute(
            "INSERT INTO bench_visibility (event_id, recorded_at) "
            "SELECT * FROM unnest($1::text[], $2::timestamptz[])",
            [event.id for event in events],
            [event.time for event in events],
        )


record_visibility = RecordVisibility()
