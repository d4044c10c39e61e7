"""Where portfolio rules are kept: one row each, versioned for If-Match."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from collections_service.domain.portfolios import Rule

_ACCOUNTS = """
SELECT a.account_id, a.segment, a.collector_id, a.assigned_by_rule,
       coalesce(b.open_balance_minor, 0) AS balance_minor
FROM accounts a LEFT JOIN account_balances b USING (account_id)
WHERE a.collector_id IS NULL OR ($1 AND a.assigned_by_rule IS NOT NULL)
ORDER BY a.account_id
"""


async def add(conn: asyncpg.Connection, rule_id: UUID, rule: Rule, *, by: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO portfolio_rules (rule_id, collector_id, segment, min_balance_minor, "
        "max_balance_minor, rank, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        rule_id,
        rule.collector_id,
        rule.segment,
        rule.min_balance_minor,
        rule.max_balance_minor,
        rule.rank,
        by,
    )
    assert row is not None
    return row


async def lock(conn: asyncpg.Connection, rule_id: UUID) -> asyncpg.Record | None:
    """The rule as it is, locked until the transaction ends (its history keeps the before);
    None when there is no rule."""
    return await conn.fetchrow(
        "SELECT * FROM portfolio_rules WHERE rule_id = $1 FOR UPDATE", rule_id
    )


async def replace(conn: asyncpg.Connection, rule_id: UUID, rule: Rule) -> asyncpg.Record:
    row = await conn.fetchrow(
        "UPDATE portfolio_rules SET collector_id = $2, segment = $3, min_balance_minor = $4, "
        "max_balance_minor = $5, rank = $6, version = version + 1 WHERE rule_id = $1 "
        "RETURNING *",
        rule_id,
        rule.collector_id,
        rule.segment,
        rule.min_balance_minor,
        rule.max_balance_minor,
        rule.rank,
    )
    assert row is not None
    return row


async def remove(conn: asyncpg.Connection, rule_id: UUID) -> None:
    await conn.execute("DELETE FROM portfolio_rules WHERE rule_id = $1", rule_id)


async def ranked(conn: asyncpg.Connection) -> list[Rule]:
    """Every rule in the order they are tried: rank, then the older first."""
    rows = await conn.fetch("SELECT * FROM portfolio_rules ORDER BY rank, created_at")
    return [
        Rule(
            r["collector_id"],
            r["rank"],
            r["segment"],
            r["min_balance_minor"],
            r["max_balance_minor"],
            r["rule_id"],
        )
        for r in rows
    ]


async def unassigned_accounts(conn: asyncpg.Connection, *, rebalance: bool) -> list[asyncpg.Record]:
    """Accounts nobody was given by hand: those with no collector, and on `rebalance` those a
    rule gave out too."""
    return list(await conn.fetch(_ACCOUNTS, rebalance))
