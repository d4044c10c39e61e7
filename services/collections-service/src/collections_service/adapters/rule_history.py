"""The history of portfolio rules: one row per addition, change or retirement of a rule.

The rule columns are jsonb, encoded by the pool's codec (`receivables_platform.db.pool`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

RULE_FIELDS = ("collector_id", "rank", "segment", "min_balance_minor", "max_balance_minor")


def rule_of(row: asyncpg.Record) -> dict[str, Any]:
    """What the rule says, as the history keeps it (no version, no audit columns)."""
    return {name: row[name] for name in RULE_FIELDS}


async def record(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    change: str,
    by: str,
    *,
    before: asyncpg.Record | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO portfolio_rule_history (rule_id, version, change, changed_by, rule, before) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        row["rule_id"],
        row["version"],
        change,
        by,
        rule_of(row),
        None if before is None else rule_of(before),
    )


async def of_rule(conn: asyncpg.Connection, rule_id: UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT version, change, changed_by, changed_at, rule, before "
            "FROM portfolio_rule_history WHERE rule_id = $1 ORDER BY entry_id",
            rule_id,
        )
    )
