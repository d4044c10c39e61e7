"""Where policy versions are kept: one row per version, unique per (policy, version) and one
policy per segment."""

from __future__ import annotations

from dataclasses import asdict
from uuid import UUID

import asyncpg

from collections_service.adapters.reads import one
from collections_service.domain.cadence import Policy


async def add_version(
    conn: asyncpg.Connection, policy: Policy, *, by: str
) -> asyncpg.Record | None:
    """The version's row, or None when it was taken: by another policy of the segment
    (version 1) or by a concurrent revision (a later one)."""
    steps = [{**asdict(s), "channel": s.channel.value} for s in policy.steps]
    try:
        row: asyncpg.Record | None = await conn.fetchrow(
            "INSERT INTO cadence_policies (policy_id, version, segment, name, steps, "
            "created_by, catch_up) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
            policy.policy_id,
            policy.version,
            policy.segment,
            policy.name,
            steps,
            by,
            policy.catch_up.value,
        )
    except asyncpg.UniqueViolationError:
        return None
    return row


async def latest(conn: asyncpg.Connection, policy_id: UUID) -> asyncpg.Record:
    return await one(
        conn,
        "SELECT * FROM cadence_policies WHERE policy_id = $1 ORDER BY version DESC LIMIT 1",
        policy_id,
        what=f"policy {policy_id}",
        field="policy_id",
    )
