"""An account at risk (a broken or partly kept promise) stops being at risk on good news.

The flag raises the account in the worklist; left forever it would keep a
customer who has since paid up above those who have not. It clears when a
promise is kept in full, or when nothing is past due any more (paid, credited
or written off), whichever comes first; the event says which.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg

from collections_service.adapters import queries
from collections_service.domain import account as account_domain
from collections_service.service_layer import accounts
from receivables_platform.contracts.collections import RiskClearance, RiskReason


async def mark(
    conn: asyncpg.Connection,
    account_id: UUID,
    reason: RiskReason,
    today: date,
    *,
    collector_id: str | None,
    commitment_id: UUID | None = None,
    correlation_id: str | None = None,
) -> None:
    """Mark the account at risk; runs in the caller's transaction, account locked."""
    await accounts.decide(
        conn,
        account_id,
        lambda _: account_domain.mark_at_risk(
            account_id,
            collector_id=collector_id,
            reason=reason,
            commitment_id=commitment_id,
            today=today,
        ),
        correlation_id=correlation_id,
    )


async def clear(
    conn: asyncpg.Connection,
    account_id: UUID,
    reason: RiskClearance,
    today: date,
    *,
    commitment_id: UUID | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> bool:
    """Clear the flag if it is set; runs in the caller's transaction, account locked."""
    decided = await accounts.decide(
        conn,
        account_id,
        lambda account: account_domain.clear_risk(
            account, reason, today=today, commitment_id=commitment_id
        ),
        correlation_id=correlation_id,
        causation_id=causation_id,
    )
    return bool(decided.events)


async def clear_if_paid_up(
    conn: asyncpg.Connection,
    account_id: UUID,
    today: date,
    *,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> bool:
    if await queries.past_due_minor(conn, account_id, today) > 0:
        return False
    return await clear(
        conn,
        account_id,
        RiskClearance.PAID_UP,
        today,
        correlation_id=correlation_id,
        causation_id=causation_id,
    )
