"""One account as a collector sees it: who owns it, what it owes, what is in flight."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg


async def account_profile(conn: asyncpg.Connection, account_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        """
        SELECT a.account_id, a.external_id, a.name, a.segment, a.currency,
               a.payment_terms_days, ca.collector_id, ca.effective_on AS collector_since, ct.team,
               coalesce((SELECT h.enrolled FROM ar_autopay_history h
                         WHERE h.account_id = a.account_id
                         ORDER BY h.effective_date DESC, h.enrolled LIMIT 1), false) AS on_autopay
        FROM ar_accounts a
        LEFT JOIN col_assignments ca ON ca.account_id = a.account_id
        LEFT JOIN collector_teams ct ON ct.collector_id = ca.collector_id
        WHERE a.account_id = $1""",
        account_id,
    )
    return dict(row) if row else None


async def last_contact(conn: asyncpg.Connection, account_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        """
        SELECT contact_id, collector_id, channel, outcome, business_date, attempted_at
        FROM col_contacts WHERE account_id = $1
        ORDER BY attempted_at DESC, contact_id DESC LIMIT 1""",
        account_id,
    )
    return dict(row) if row else None


async def open_promises(conn: asyncpg.Connection, account_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT commitment_id, collector_id, amount_minor, currency, promised_date, made_on
        FROM col_commitments WHERE account_id = $1 AND status = 'open'
        ORDER BY promised_date, commitment_id""",
        account_id,
    )
    return [dict(r) for r in rows]


async def open_cases(conn: asyncpg.Connection, account_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT case_id, case_number, type, status, owner_id, opened_at, invoice_ids,
               root_cause_code
        FROM cases WHERE account_id = $1 AND status IS DISTINCT FROM 'closed'
        ORDER BY opened_at, case_id""",
        account_id,
    )
    return [dict(r) for r in rows]


async def set_team(conn: asyncpg.Connection, collector_id: str, team: str) -> None:
    await conn.execute(
        """
        INSERT INTO collector_teams (collector_id, team) VALUES ($1, $2)
        ON CONFLICT (collector_id) DO UPDATE SET team = EXCLUDED.team, updated_at = now()""",
        collector_id,
        team,
    )
