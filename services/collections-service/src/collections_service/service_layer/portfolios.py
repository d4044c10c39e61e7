"""Portfolios: which collector works which account, explicitly or by rule.

Rules are tried by rank (lowest first); the first whose segment and balance
range fit the account wins. Applying rules touches only accounts nobody was
given by hand, unless asked to rebalance rule-assigned ones too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID

import asyncpg

from collections_service.adapters import portfolio_rules as rule_store
from collections_service.adapters import queries, reads, rule_history
from collections_service.domain import account as account_domain
from collections_service.domain.portfolios import Rule, rule_for
from collections_service.domain.refusals import not_found
from collections_service.service_layer import accounts, lock_account
from receivables_platform.ids import new_id


async def add_rule(conn: asyncpg.Connection, rule: Rule, *, by: str) -> asyncpg.Record:
    rule.check()
    row = await rule_store.add(conn, new_id(), rule, by=by)
    await rule_history.record(conn, row, "added", by)
    return row


async def get_rule(conn: asyncpg.Connection, rule_id: UUID) -> asyncpg.Record:
    return await reads.portfolio_rule(conn, rule_id)


async def replace_rule(
    conn: asyncpg.Connection, rule_id: UUID, rule: Rule, check: Callable[[int], object], *, by: str
) -> asyncpg.Record:
    """A changed rule moves no account by itself: the next rules run (or `rebalance`) does.
    The change is kept in the rule's history with who made it and what the rule was."""
    rule.check()
    async with conn.transaction():
        before = await _lock_rule(conn, rule_id, check)
        row = await rule_store.replace(conn, rule_id, rule)
        await rule_history.record(conn, row, "changed", by, before=before)
        return row


async def remove_rule(
    conn: asyncpg.Connection, rule_id: UUID, check: Callable[[int], object], *, by: str
) -> None:
    """Accounts the rule gave out keep their collector; their events still name the rule, and
    its history (kept after the rule is gone) says what it was and who retired it."""
    async with conn.transaction():
        before = await _lock_rule(conn, rule_id, check)
        await rule_store.remove(conn, rule_id)
        await rule_history.record(conn, before, "retired", by)


async def rule_changes(conn: asyncpg.Connection, rule_id: UUID) -> list[asyncpg.Record]:
    """The rule's history, oldest first; also for a retired rule (404 if there never was one)."""
    rows = await rule_history.of_rule(conn, rule_id)
    if not rows:
        raise not_found(f"no portfolio rule {rule_id}", field="rule_id")
    return rows


async def _lock_rule(
    conn: asyncpg.Connection, rule_id: UUID, check: Callable[[int], object]
) -> asyncpg.Record:
    """The rule, locked for this transaction, at the version the caller last read (else 412)."""
    current = await rule_store.lock(conn, rule_id)
    if current is None:
        raise not_found(f"no portfolio rule {rule_id}", field="rule_id")
    check(current["version"])
    return current


async def assign(
    conn: asyncpg.Connection,
    account_id: UUID,
    collector_id: str,
    *,
    by: str,
    today: date,
    rule_id: UUID | None = None,
    check: Callable[[int], object] | None = None,
    correlation_id: str | None = None,
) -> int:
    """Give the account to `collector_id`; its open tasks follow. Returns the account version."""
    async with conn.transaction():
        await lock_account(conn, account_id)
        await queries.account_row(conn, account_id)
        loaded = await accounts.decide(
            conn,
            account_id,
            lambda account: account_domain.assign(
                account, account_id, collector_id, by=by, today=today, rule_id=rule_id
            ),
            check=check,
            correlation_id=correlation_id,
        )
        return loaded.version


async def apply_rules(
    conn: asyncpg.Connection,
    *,
    by: str,
    today: date,
    rebalance: bool = False,
    correlation_id: str | None = None,
) -> int:
    rules = await rule_store.ranked(conn)
    if not rules:
        return 0
    assigned = 0
    for account in await rule_store.unassigned_accounts(conn, rebalance=rebalance):
        rule = rule_for(rules, account["segment"], int(account["balance_minor"]))
        if rule is not None and account["collector_id"] != rule.collector_id:
            await assign(
                conn,
                account["account_id"],
                rule.collector_id,
                by=by,
                today=today,
                rule_id=rule.rule_id,
                correlation_id=correlation_id,
            )
            assigned += 1
    return assigned
