"""An account's timeline, newest first, one keyset page at a time."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from reporting_service.domain.timeline import After


async def account_known(conn: asyncpg.Connection, account_id: UUID) -> bool:
    """Known to billing, or to any projection's timeline (collections may speak first)."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM ar_accounts WHERE account_id = $1) "
            "OR EXISTS (SELECT 1 FROM account_timeline WHERE account_id = $1)",
            account_id,
        )
    )


async def timeline(
    conn: asyncpg.Connection,
    account_id: UUID,
    kinds: list[str] | None,
    after: After | None,
    limit: int,
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT entry_id, at, kind, title, detail::text AS detail, event_id
        FROM account_timeline
        WHERE account_id = $1
          AND ($2::text[] IS NULL OR kind = ANY($2::text[]))
          AND ($3::timestamptz IS NULL OR (at, entry_id) < ($3::timestamptz, $4::text))
        ORDER BY at DESC, entry_id DESC
        LIMIT $5
        """,
        account_id,
        kinds,
        after.at if after else None,
        after.entry_id if after else None,
        limit,
    )
    return [dict(row) for row in rows]
