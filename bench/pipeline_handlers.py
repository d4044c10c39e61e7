"""The benchmark's read model: when each event became visible, measured in the database clock."""

from __future__ import annotations

import asyncpg

from receivables_platform.envelope import CloudEvent

CREATE = """
CREATE TABLE IF NOT EXISTS bench_visibility (
    event_id    text PRIMARY KEY,
    recorded_at timestamptz NOT NULL,
    visible_at  timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""


async def record_visibility(conn: asyncpg.Connection, event: CloudEvent) -> None:
    await conn.execute(
        "INSERT INTO bench_visibility (event_id, recorded_at) VALUES ($1, $2)", event.id, event.time
    )
