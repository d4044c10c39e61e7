"""Auto-pay conversion: who to offer it to, the offers and answers, and the conversions.

A candidate is an account not on auto-pay that paid late (money applied to an
invoice after its due date) on two or more invoices in the last 180 days. An
enrolment within 30 days of an offer is that offer's conversion; the newest
offer in the window gets the credit, once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID

import asyncpg

from collections_service.adapters import queries, reads, streams
from collections_service.adapters.projections import project
from collections_service.domain.refusals import conflict
from collections_service.service_layer import lock_account
from receivables_platform.contracts.collections import (
    AutoPayConverted,
    AutoPayOfferAnswered,
    AutoPayOffered,
    AutoPayOfferOutcome,
    Channel,
)
from receivables_platform.ids import new_id

LATE_LOOKBACK = timedelta(days=180)
MIN_LATE_PAYMENTS = 2
CONVERSION_WINDOW = timedelta(days=30)

_CANDIDATES = """
SELECT a.account_id, a.name, a.collector_id, count(DISTINCT l.invoice_id) AS late_payments
FROM accounts a
JOIN invoice_ledger l ON l.account_id = a.account_id AND l.entry_key LIKE 'applied:%'
JOIN invoices i ON i.invoice_id = l.invoice_id AND l.effective_on > i.due_date
WHERE NOT a.autopay AND l.effective_on > $1 AND ($2::text IS NULL OR a.collector_id = $2)
GROUP BY a.account_id
HAVING count(DISTINCT l.invoice_id) >= $3
"""
_PAGE = f"""
SELECT * FROM ({_CANDIDATES}) c
WHERE $4::int IS NULL OR c.late_payments < $4 OR (c.late_payments = $4 AND c.account_id > $5)
ORDER BY c.late_payments DESC, c.account_id
LIMIT $6
"""  # noqa: S608 - a constant query inside a constant query


def candidate_key(row: asyncpg.Record) -> tuple[int, UUID]:
    """Most late payments first: the likeliest converts lead the list."""
    return row["late_payments"], row["account_id"]


async def candidates(conn: asyncpg.Connection, today: date, collector_id: str | None = None,
                     *, after: tuple[int, UUID] | None = None, limit: int = 100,
                     ) -> list[asyncpg.Record]:
    """One more row than `limit`, so the caller knows whether another page follows."""
    late, account_id = after or (None, None)
    return list(await conn.fetch(_PAGE, today - LATE_LOOKBACK, collector_id,
                                 MIN_LATE_PAYMENTS, late, account_id, limit + 1))


async def offer(conn: asyncpg.Connection, account_id: UUID, channel: Channel, *, by: str,
                today: date, contact_id: UUID | None = None,
                correlation_id: str | None = None) -> UUID:
    async with conn.transaction():
        await lock_account(conn, account_id)
        account = await queries.account_row(conn, account_id)
        if account["autopay"]:
            raise conflict("the account is already on auto-pay", field="account_id",
                           title="Already on auto-pay")
        offer_id = new_id()
        event = AutoPayOffered(offer_id=offer_id, account_id=account_id, collector_id=by,
                               channel=channel, offered_on=today, contact_id=contact_id)
        recorded = await streams.append(conn, streams.stream("autopay_offer", offer_id),
                                        account_id, [event], expected_version=0,
                                        correlation_id=correlation_id)
        await project(conn, recorded)
        return offer_id


async def get(conn: asyncpg.Connection, offer_id: UUID) -> asyncpg.Record:
    return await reads.one(conn, "SELECT * FROM autopay_offers WHERE offer_id = $1", offer_id,
                           what=f"auto-pay offer {offer_id}", field="offer_id")


async def answer(conn: asyncpg.Connection, offer_id: UUID, outcome: AutoPayOfferOutcome, *,
                 today: date, check: Callable[[int], object] | None = None,
                 correlation_id: str | None = None) -> int:
    async with conn.transaction():
        row = await get(conn, offer_id)
        await lock_account(conn, row["account_id"])
        row = await get(conn, offer_id)
        if check is not None:
            check(row["version"])
        if row["outcome"] not in (None, AutoPayOfferOutcome.UNDECIDED.value):
            raise conflict(f"the offer was already answered ({row['outcome']})",
                           field="outcome", title="Offer answered")
        event = AutoPayOfferAnswered(offer_id=offer_id, account_id=row["account_id"],
                                     collector_id=row["collector_id"], outcome=outcome,
                                     answered_on=today)
        recorded = await streams.append(conn, streams.stream("autopay_offer", offer_id),
                                        row["account_id"], [event],
                                        expected_version=row["version"],
                                        correlation_id=correlation_id)
        await project(conn, recorded)
        return recorded[-1].version


async def attribute_conversion(conn: asyncpg.Connection, account_id: UUID, enrolled_on: date,
                               *, causation_id: str | None = None) -> UUID | None:
    await lock_account(conn, account_id)
    row = await conn.fetchrow(
        "SELECT * FROM autopay_offers WHERE account_id = $1 AND converted_on IS NULL "
        "AND offered_on <= $2 AND offered_on >= $3 "
        "ORDER BY offered_on DESC, offer_id DESC LIMIT 1",
        account_id, enrolled_on, enrolled_on - CONVERSION_WINDOW)
    if row is None:
        return None
    event = AutoPayConverted(offer_id=row["offer_id"], account_id=account_id,
                             collector_id=row["collector_id"], offered_on=row["offered_on"],
                             enrolled_on=enrolled_on,
                             days_after_offer=(enrolled_on - row["offered_on"]).days)
    recorded = await streams.append(conn, streams.stream("autopay_offer", row["offer_id"]),
                                    account_id, [event], expected_version=row["version"],
                                    causation_id=causation_id)
    await project(conn, recorded)
    return row["offer_id"] if isinstance(row["offer_id"], UUID) else None
