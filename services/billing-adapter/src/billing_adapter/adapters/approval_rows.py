"""The approvals list: one row per approval, written with its events."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from billing_adapter.domain.approval import Approval


async def save(conn: asyncpg.Connection, state: Approval, version: int) -> None:
    request = state.request
    assert request is not None and state.status is not None
    await conn.execute(
        "INSERT INTO approvals (approval_id, status, action, account_id, invoice_id, "
        "amount_minor, currency, requested_by, requested_at, decided_by, decided_at, version) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT (approval_id) DO UPDATE "
        "SET status = EXCLUDED.status, decided_by = EXCLUDED.decided_by, "
        "decided_at = EXCLUDED.decided_at, version = EXCLUDED.version",
        request.approval_id,
        state.status.value,
        request.action.value,
        request.account_id,
        request.invoice_id,
        request.amount_minor,
        request.currency,
        request.requested_by,
        request.requested_at,
        state.decided_by,
        state.decided_at,
        version,
    )


async def listed(
    conn: asyncpg.Connection, status: str, limit: int, after: tuple[datetime, UUID] | None
) -> list[UUID]:
    """Oldest request first: what has waited longest is decided first."""
    rows = await conn.fetch(
        "SELECT approval_id FROM approvals WHERE status = $1 "
        "AND ($2::timestamptz IS NULL OR (requested_at, approval_id) > ($2, $3)) "
        "ORDER BY requested_at, approval_id LIMIT $4",
        status,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [r["approval_id"] for r in rows]
