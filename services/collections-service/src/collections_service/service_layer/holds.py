"""Holds: invoices out of the cadence (still in aging) while a dispute is open, or by hand.

A dispute case on invoices holds them until the case is resolved, closed or
reclassified as something else (and again if it is reopened or invoices are
linked to it); a hold set by hand carries a reason and may
end itself on its `ends_on` date, lifted by the daily run. Holds are decisions on the
account's stream (`domain.account`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg

from collections_service.adapters import billing_view, queries, streams
from collections_service.domain import account as account_domain
from collections_service.domain.account import CollectionAccount, PlaceHold
from collections_service.service_layer import accounts, lock_account
from collections_service.service_layer.aggregates import Aggregates, InPostgres
from receivables_platform.contracts.collections import HoldRelease, HoldSource
from receivables_platform.ids import new_id


@dataclass(frozen=True)
class NewHold:
    account_id: UUID
    invoice_ids: tuple[UUID, ...]
    reason: str
    source: HoldSource = HoldSource.MANUAL
    case_id: str | None = None
    ends_on: date | None = None


def _command(hold: NewHold, hold_id: UUID, by: str | None, today: date) -> PlaceHold:
    return PlaceHold(
        hold_id=hold_id,
        account_id=hold.account_id,
        invoice_ids=hold.invoice_ids,
        reason=hold.reason,
        today=today,
        by=by,
        source=hold.source,
        case_id=hold.case_id,
        ends_on=hold.ends_on,
    )


async def place(
    conn: asyncpg.Connection,
    hold: NewHold,
    *,
    by: str | None,
    today: date,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> UUID:
    command = _command(hold, new_id(), by, today)
    account_domain.check_hold(command)
    async with conn.transaction():
        await lock_account(conn, hold.account_id)
        await queries.account_row(conn, hold.account_id)
        known = await queries.invoices_of_account(conn, hold.account_id)
        await accounts.decide(
            conn,
            hold.account_id,
            lambda account: account_domain.place_hold(command, account, invoices_of_account=known),
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        return command.hold_id


async def hold_for_case(
    conn: asyncpg.Connection,
    hold: NewHold,
    *,
    today: date,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> UUID | None:
    """Hold what the case does not hold yet, so a redelivered or late case event holds
    nothing twice; None when it holds everything named already."""
    assert hold.case_id is not None
    async with conn.transaction():
        await lock_account(conn, hold.account_id)
        current = await streams.accounts.load(conn, hold.account_id, history=False)
        held = current.state.held_for_case(hold.case_id)
        invoice_ids = tuple(i for i in hold.invoice_ids if i not in held)
        if not invoice_ids:
            return None
        await billing_view.ensure_invoices(conn, hold.account_id, list(invoice_ids))
        return await place(
            conn,
            NewHold(
                hold.account_id, invoice_ids, hold.reason, hold.source, hold.case_id, hold.ends_on
            ),
            by=None,
            today=today,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )


async def release(
    conn: asyncpg.Connection,
    hold_id: UUID,
    how: HoldRelease,
    *,
    by: str | None,
    today: date,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> None:
    async with conn.transaction():
        account_id = await queries.hold_account(conn, hold_id)
        await accounts.decide(
            conn,
            account_id,
            lambda account: account_domain.release_hold(account, hold_id, how, by=by, today=today),
            correlation_id=correlation_id,
            causation_id=causation_id,
        )


async def release_case(
    conn: asyncpg.Connection,
    case_id: str,
    how: HoldRelease,
    *,
    today: date,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> int:
    """Lift every hold the case still has in force; returns how many."""
    return await release_case_holds(
        InPostgres(conn, streams.accounts),
        await queries.accounts_held_for_case(conn, case_id),
        case_id,
        how,
        today=today,
        correlation_id=correlation_id,
        causation_id=causation_id,
    )


async def release_case_holds(
    accounts: Aggregates[CollectionAccount],
    account_ids: list[UUID],
    case_id: str,
    how: HoldRelease,
    *,
    today: date,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> int:
    """The case's holds on each account it held invoices of, released in one write per
    account; a hold already released (a redelivered case event) is left alone."""
    released = 0
    for account_id in account_ids:
        decided = await accounts.decide(
            account_id,
            account_id,
            lambda account: [
                event
                for hold_id in account.holds_of_case(case_id)
                for event in account_domain.release_hold(
                    account, hold_id, how, by=None, today=today
                )
            ],
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        released += len(decided.events)
    return released


async def release_expired(
    conn: asyncpg.Connection, today: date, *, correlation_id: str | None = None
) -> int:
    hold_ids = await queries.expired_holds(conn, today)
    for hold_id in hold_ids:
        await release(
            conn, hold_id, HoldRelease.EXPIRED, by=None, today=today, correlation_id=correlation_id
        )
    return len(hold_ids)


def invoices_of(ids: Sequence[UUID]) -> tuple[UUID, ...]:
    return tuple(dict.fromkeys(ids))
