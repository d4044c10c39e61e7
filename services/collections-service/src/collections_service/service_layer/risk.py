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

from collections_service.adapters import streams
from collections_service.adapters.projections import project
from receivables_platform.contracts.collections import AccountRiskCleared, RiskClearance


async def clear(conn: asyncpg.Connection, account_id: UUID, reason: RiskClearance, today: date,
                *, commitment_id: UUID | None = None, correlation_id: str | None = None,
                causation_id: str | None = None) -> bool:
    """Clear the flag if it is set; runs in the caller's transaction, account locked."""
    account = await conn.fetchrow("SELECT collector_id, at_risk_since FROM accounts "
                                  "WHERE account_id = $1", account_id)
    if account is None or account["at_risk_since"] is None:  # unknown yet, or not at risk
        return False
    event = AccountRiskCleared(account_id=account_id, collector_id=account["collector_id"],
                               reason=reason, commitment_id=commitment_id,
                               at_risk_since=account["at_risk_since"], cleared_on=today)
    recorded = await streams.append(conn, streams.stream("account", account_id), account_id,
                                    [event], correlation_id=correlation_id,
                                    causation_id=causation_id)
    await project(conn, recorded)
    return True


async def clear_if_paid_up(conn: asyncpg.Connection, account_id: UUID, today: date, *,
                           correlation_id: str | None = None,
                           causation_id: str | None = None) -> bool:
    past_due = await conn.fetchval(
        "SELECT coalesce(sum(balance_minor), 0) FROM invoice_balances WHERE account_id = $1 "
        "AND closed IS NULL AND next_due_date < $2", account_id, today)
    if past_due > 0:
        return False
    return await clear(conn, account_id, RiskClearance.PAID_UP, today,
                       correlation_id=correlation_id, causation_id=causation_id)
