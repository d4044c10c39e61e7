"""Holds: invoices out of the cadence (still in aging) while a dispute is open, or by hand.

A dispute case on invoices holds them until the case is resolved, closed or
reclassified as something else (and again if it is reopened or invoices are
linked to it); a hold set by hand carries a reason and may
end itself on its `ends_on` date, lifted by the daily run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

import asyncpg

from collections_service.adapters import queries, reads, streams
from collections_service.adapters.projections import project
from collections_service.domain.refusals import conflict
from collections_service.service_layer import lock_account
from receivables_platform.contracts.collections import (
    HoldPlaced,
    HoldRelease,
    HoldReleased,
    HoldSource,
)
from receivables_platform.domain import Refused
from receivables_platform.ids import new_id

MAX_HOLD = timedelta(days=3 * 366)


@dataclass(frozen=True)
class NewHold:
    account_id: UUID
    invoice_ids: tuple[UUID, ...]
    reason: str
    source: HoldSource = HoldSource.MANUAL
    case_id: str | None = None
    ends_on: date | None = None


async def place(conn: asyncpg.Connection, hold: NewHold, *, by: str | None, today: date,
                correlation_id: str | None = None, causation_id: str | None = None) -> UUID:
    if not hold.invoice_ids:
        raise Refused("a hold needs at least one invoice", field="invoice_ids")
    if hold.ends_on is not None and hold.ends_on <= today:
        raise Refused(f"the hold would end before it starts (today is {today})",
                      field="ends_on")
    if hold.ends_on is not None and hold.ends_on > today + MAX_HOLD:
        raise Refused(f"a hold by hand ends within {MAX_HOLD.days} days; leave the end out for "
                      "an open-ended one", field="ends_on")
    async with conn.transaction():
        await lock_account(conn, hold.account_id)
        await queries.account_row(conn, hold.account_id)
        known = {r["invoice_id"] for r in await conn.fetch(
            "SELECT invoice_id FROM invoices WHERE account_id = $1", hold.account_id)}
        for index, invoice_id in enumerate(hold.invoice_ids):
            if invoice_id not in known:
                raise Refused(f"invoice {invoice_id} is not this account's",
                              field=f"invoice_ids.{index}")
        hold_id = new_id()
        event = HoldPlaced(hold_id=hold_id, account_id=hold.account_id,
                           invoice_ids=list(hold.invoice_ids), source=hold.source,
                           reason=hold.reason, case_id=hold.case_id, placed_by=by,
                           placed_on=today, ends_on=hold.ends_on)
        recorded = await streams.append(conn, streams.stream("account", hold.account_id),
                                        hold.account_id, [event], correlation_id=correlation_id,
                                        causation_id=causation_id)
        await project(conn, recorded)
        return hold_id


async def release(conn: asyncpg.Connection, hold_id: UUID, how: HoldRelease, *,
                  by: str | None, today: date, correlation_id: str | None = None,
                  causation_id: str | None = None) -> None:
    async with conn.transaction():
        row = await reads.hold(conn, hold_id, field="hold_id")
        await lock_account(conn, row["account_id"])
        if row["released_on"] is not None:
            raise conflict("the hold was already released", field="hold_id",
                           title="Hold released")
        event = HoldReleased(hold_id=hold_id, account_id=row["account_id"],
                             invoice_ids=list(row["invoice_ids"]), release=how,
                             case_id=row["case_id"], released_by=by, released_on=today)
        recorded = await streams.append(conn, streams.stream("account", row["account_id"]),
                                        row["account_id"], [event],
                                        correlation_id=correlation_id, causation_id=causation_id)
        await project(conn, recorded)


async def active_for_case(conn: asyncpg.Connection, case_id: str) -> list[UUID]:
    """A case's holds still in force: one from its opening, more as invoices were linked."""
    rows = await conn.fetch("SELECT hold_id FROM holds WHERE case_id = $1 "
                            "AND released_on IS NULL ORDER BY placed_on, hold_id", case_id)
    return [row["hold_id"] for row in rows]


async def invoices_held_for_case(conn: asyncpg.Connection, case_id: str) -> set[UUID]:
    rows = await conn.fetch("SELECT DISTINCT unnest(invoice_ids) AS invoice_id FROM holds "
                            "WHERE case_id = $1 AND released_on IS NULL", case_id)
    return {row["invoice_id"] for row in rows}


async def release_expired(conn: asyncpg.Connection, today: date, *,
                          correlation_id: str | None = None) -> int:
    rows = await conn.fetch("SELECT hold_id FROM holds WHERE released_on IS NULL "
                            "AND ends_on IS NOT NULL AND ends_on <= $1", today)
    for row in rows:
        await release(conn, row["hold_id"], HoldRelease.EXPIRED, by=None, today=today,
                      correlation_id=correlation_id)
    return len(rows)


def invoices_of(ids: Sequence[UUID]) -> tuple[UUID, ...]:
    return tuple(dict.fromkeys(ids))
