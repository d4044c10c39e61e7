"""Auto-pay conversion: who to offer it to, the offers and answers, and the conversions.

The rules (who is a candidate, which offer an enrolment converts) are `domain.autopay`'s;
this module loads, decides, appends and projects.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID

import asyncpg

from collections_service.adapters import queries, reads, streams
from collections_service.domain import autopay as autopay_domain
from collections_service.domain.autopay import LATE_LOOKBACK, MIN_LATE_PAYMENTS, Offer
from collections_service.service_layer import lock_account
from collections_service.service_layer.aggregates import Aggregates, InPostgres
from receivables_platform.contracts.collections import AutoPayOfferOutcome, Channel
from receivables_platform.ids import new_id


def candidate_key(row: asyncpg.Record) -> tuple[int, UUID]:
    """Most late payments first: the likeliest converts lead the list."""
    return row["late_payments"], row["account_id"]


async def candidates(
    conn: asyncpg.Connection,
    today: date,
    collector_id: str | None = None,
    *,
    after: tuple[int, UUID] | None = None,
    limit: int = 100,
) -> list[asyncpg.Record]:
    """One more row than `limit`, so the caller knows whether another page follows."""
    return await reads.autopay_candidates(
        conn,
        since=today - LATE_LOOKBACK,
        min_late_payments=MIN_LATE_PAYMENTS,
        collector_id=collector_id,
        after=after,
        limit=limit + 1,
    )


async def offer(
    conn: asyncpg.Connection,
    account_id: UUID,
    channel: Channel,
    *,
    by: str,
    today: date,
    contact_id: UUID | None = None,
    correlation_id: str | None = None,
) -> UUID:
    command = autopay_domain.MakeOffer(new_id(), account_id, channel, by, today, contact_id)
    async with conn.transaction():
        await lock_account(conn, account_id)
        account = await queries.account_row(conn, account_id)
        await InPostgres(conn, streams.offers).decide(
            command.offer_id,
            account_id,
            lambda _: autopay_domain.make(command, on_autopay=account["autopay"]),
            correlation_id=correlation_id,
        )
        return command.offer_id


async def get(conn: asyncpg.Connection, offer_id: UUID) -> asyncpg.Record:
    return await reads.autopay_offer(conn, offer_id)


async def answer(
    conn: asyncpg.Connection,
    offer_id: UUID,
    outcome: AutoPayOfferOutcome,
    *,
    today: date,
    check: Callable[[int], object] | None = None,
    correlation_id: str | None = None,
) -> int:
    async with conn.transaction():
        row = await get(conn, offer_id)
        await lock_account(conn, row["account_id"])
        decided = await InPostgres(conn, streams.offers).decide(
            offer_id,
            row["account_id"],
            lambda offer: autopay_domain.answer(offer, outcome, today=today),
            check=check,
            correlation_id=correlation_id,
        )
        return decided.version


async def attribute_conversion(
    conn: asyncpg.Connection,
    account_id: UUID,
    enrolled_on: date,
    *,
    causation_id: str | None = None,
) -> UUID | None:
    """Credit billing's enrolment to the offer that earned it; runs in the consumer's
    transaction, so a redelivered enrolment finds that offer converted and credits none."""
    await lock_account(conn, account_id)
    return await credit_enrolment(
        InPostgres(conn, streams.offers),
        await queries.unconverted_offers(conn, account_id),
        account_id,
        enrolled_on,
        causation_id=causation_id,
    )


async def credit_enrolment(
    offers: Aggregates[Offer],
    unconverted: list[UUID],
    account_id: UUID,
    enrolled_on: date,
    *,
    causation_id: str | None = None,
) -> UUID | None:
    """The offer (among the account's `unconverted`) the enrolment converts, converted."""
    credited = autopay_domain.credited([await offers.load(i) for i in unconverted], enrolled_on)
    if credited is None or credited.offer_id is None:
        return None
    await offers.decide(
        credited.offer_id,
        account_id,
        lambda offer: autopay_domain.convert(offer, enrolled_on),
        causation_id=causation_id,
    )
    return credited.offer_id
