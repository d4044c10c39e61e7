"""What the weekly root-cause review reads: closed cases by root cause, with their amounts."""

from __future__ import annotations

from typing import Any

import asyncpg

from reporting_service.domain.kpis import Period


async def most_invoiced_currency(conn: asyncpg.Connection) -> str | None:
    """The currency most invoices are in (the first by code on a tie), None with no invoice."""
    currency = await conn.fetchval(
        "SELECT currency FROM ar_invoices WHERE currency IS NOT NULL "
        "GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1"
    )
    return None if currency is None else str(currency)


async def root_causes(
    conn: asyncpg.Connection, period: Period, currency: str
) -> list[dict[str, Any]]:
    """Cases closed in the period per root-cause category; the amount is the total of the
    invoices each case disputed, in `currency` (a case on other currencies counts, at 0)."""
    rows = await conn.fetch(
        """
        SELECT coalesce(c.root_cause_code, 'unidentified') AS code,
               coalesce(max(c.root_cause_name), 'No root cause identified') AS name,
               count(DISTINCT c.case_id) AS cases,
               coalesce(sum(i.total_minor) FILTER (WHERE i.currency = $3), 0) AS amount
        FROM cases c
        LEFT JOIN LATERAL unnest(c.invoice_ids) AS disputed(invoice_id) ON true
        LEFT JOIN ar_invoices i ON i.invoice_id = disputed.invoice_id
        WHERE (c.closed_at AT TIME ZONE 'UTC')::date BETWEEN $1 AND $2
        GROUP BY 1 ORDER BY 3 DESC, 4 DESC, 1""",
        period.start,
        period.end,
        currency,
    )
    return [
        {
            "code": r["code"],
            "name": r["name"],
            "cases": r["cases"],
            "amount_minor": int(r["amount"]),
        }
        for r in rows
    ]
