"""Portfolios: which collector works which account, explicitly or by rule.

Rules are tried by rank (lowest first); the first whose segment and balance
range fit the account wins. Applying rules touches only accounts nobody was
given by hand, unless asked to rebalance rule-assigned ones too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg

from collections_service.adapters import queries, reads, rule_history, streams
from collections_service.adapters.projections import project
from collections_service.domain.refusals import not_found
from collections_service.service_layer import lock_account
from receivables_platform.contracts.collections import AccountAssigned, AssignmentBasis
from receivables_platform.domain import Refused
from receivables_platform.ids import new_id


@dataclass(frozen=True)
class Rule:
    collector_id: str
    rank: int
    segment: str | None = None
    min_balance_minor: int | None = None
    max_balance_minor: int | None = None

    def check(self) -> None:
        low, high = self.min_balance_minor, self.max_balance_minor
        if low is not None and high is not None and high < low:
            raise Refused("the balance range ends below where it starts",
                          field="max_balance_minor")

    def fits(self, segment: str | None, balance_minor: int) -> bool:
        return ((self.segment is None or self.segment == segment)
                and (self.min_balance_minor is None or balance_minor >= self.min_balance_minor)
                and (self.max_balance_minor is None or balance_minor <= self.max_balance_minor))


async def add_rule(conn: asyncpg.Connection, rule: Rule, *, by: str) -> asyncpg.Record:
    rule.check()
    row = await conn.fetchrow(
        "INSERT INTO portfolio_rules (rule_id, collector_id, segment, min_balance_minor, "
        "max_balance_minor, rank, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        new_id(), rule.collector_id, rule.segment, rule.min_balance_minor,
        rule.max_balance_minor, rule.rank, by)
    assert row is not None
    await rule_history.record(conn, row, "added", by)
    return row


async def get_rule(conn: asyncpg.Connection, rule_id: UUID) -> asyncpg.Record:
    return await reads.one(conn, "SELECT * FROM portfolio_rules WHERE rule_id = $1", rule_id,
                           what=f"portfolio rule {rule_id}", field="rule_id")


async def replace_rule(conn: asyncpg.Connection, rule_id: UUID, rule: Rule,
                       check: Callable[[int], object], *, by: str) -> asyncpg.Record:
    """A changed rule moves no account by itself: the next rules run (or `rebalance`) does.
    The change is kept in the rule's history with who made it and what the rule was."""
    rule.check()
    async with conn.transaction():
        before = await _lock_rule(conn, rule_id, check)
        row = await conn.fetchrow(
            "UPDATE portfolio_rules SET collector_id = $2, segment = $3, min_balance_minor = $4, "
            "max_balance_minor = $5, rank = $6, version = version + 1 WHERE rule_id = $1 "
            "RETURNING *", rule_id, rule.collector_id, rule.segment, rule.min_balance_minor,
            rule.max_balance_minor, rule.rank)
        assert row is not None
        await rule_history.record(conn, row, "changed", by, before=before)
        return row


async def remove_rule(conn: asyncpg.Connection, rule_id: UUID,
                      check: Callable[[int], object], *, by: str) -> None:
    """Accounts the rule gave out keep their collector; their events still name the rule, and
    its history (kept after the rule is gone) says what it was and who retired it."""
    async with conn.transaction():
        before = await _lock_rule(conn, rule_id, check)
        await conn.execute("DELETE FROM portfolio_rules WHERE rule_id = $1", rule_id)
        await rule_history.record(conn, before, "retired", by)


async def rule_changes(conn: asyncpg.Connection, rule_id: UUID) -> list[asyncpg.Record]:
    """The rule's history, oldest first; also for a retired rule (404 if there never was one)."""
    rows = await rule_history.of_rule(conn, rule_id)
    if not rows:
        raise not_found(f"no portfolio rule {rule_id}", field="rule_id")
    return rows


async def _lock_rule(conn: asyncpg.Connection, rule_id: UUID,
                     check: Callable[[int], object]) -> asyncpg.Record:
    """The rule, locked for this transaction, at the version the caller last read (else 412)."""
    current = await conn.fetchrow("SELECT * FROM portfolio_rules WHERE rule_id = $1 "
                                  "FOR UPDATE", rule_id)
    if current is None:
        raise not_found(f"no portfolio rule {rule_id}", field="rule_id")
    check(current["version"])
    return current


async def assign(conn: asyncpg.Connection, account_id: UUID, collector_id: str, *, by: str,
                 today: date, rule_id: UUID | None = None,
                 check: Callable[[int], object] | None = None,
                 correlation_id: str | None = None) -> int:
    """Give the account to `collector_id`; its open tasks follow. Returns the account version."""
    async with conn.transaction():
        await lock_account(conn, account_id)
        account = await queries.account_row(conn, account_id)
        if check is not None:
            check(account["version"])
        if account["collector_id"] == collector_id:
            return int(account["version"])
        event = AccountAssigned(
            account_id=account_id, collector_id=collector_id,
            previous_collector_id=account["collector_id"],
            basis=AssignmentBasis.RULE if rule_id else AssignmentBasis.EXPLICIT,
            rule_id=rule_id, assigned_by=by, effective_on=today)
        recorded = await streams.append(conn, streams.stream("account", account_id), account_id,
                                        [event], expected_version=account["version"],
                                        correlation_id=correlation_id)
        await project(conn, recorded)
        return recorded[-1].version


_CANDIDATES = """
SELECT a.account_id, a.segment, a.collector_id, a.assigned_by_rule,
       coalesce(b.open_balance_minor, 0) AS balance_minor
FROM accounts a LEFT JOIN account_balances b USING (account_id)
WHERE a.collector_id IS NULL OR ($1 AND a.assigned_by_rule IS NOT NULL)
ORDER BY a.account_id
"""


async def apply_rules(conn: asyncpg.Connection, *, by: str, today: date,
                      rebalance: bool = False, correlation_id: str | None = None) -> int:
    rules = await conn.fetch("SELECT * FROM portfolio_rules ORDER BY rank, created_at")
    if not rules:
        return 0
    assigned = 0
    for account in await conn.fetch(_CANDIDATES, rebalance):
        for row in rules:
            rule = Rule(row["collector_id"], row["rank"], row["segment"],
                        row["min_balance_minor"], row["max_balance_minor"])
            if rule.fits(account["segment"], int(account["balance_minor"])):
                if account["collector_id"] != rule.collector_id:
                    await assign(conn, account["account_id"], rule.collector_id, by=by,
                                 today=today, rule_id=row["rule_id"],
                                 correlation_id=correlation_id)
                    assigned += 1
                break
    return assigned
