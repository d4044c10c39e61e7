"""Kafka handlers: billing's events feed the balances and judge promises; cases' events hold
and release disputed invoices. Each runs in the consumer runner's transaction (offsets, dedupe
and dead letters are the runner's), and each is safe to see an event twice or out of order.
"""

from __future__ import annotations

import asyncpg

from collections_service.adapters import billing_view
from collections_service.runtime import current_runtime
from collections_service.service_layer import autopay, commitments, holds, lock_account
from receivables_platform.contracts.base import decode
from receivables_platform.contracts.billing import (
    AutoPayEnrolled,
    InvoiceAdjusted,
    PaymentApplied,
    PaymentReversed,
)
from receivables_platform.contracts.cases import (
    CaseClosed,
    CaseOpened,
    CaseReopened,
    CaseResolved,
    CaseType,
)
from receivables_platform.contracts.collections import HoldRelease, HoldSource
from receivables_platform.envelope import CloudEvent


async def on_billing_event(conn: asyncpg.Connection, event: CloudEvent) -> None:
    contract = decode(event.type, event.schemaversion, event.data)
    await billing_view.apply(conn, contract, event.id)
    rt = current_runtime()
    if isinstance(contract, PaymentApplied | PaymentReversed | InvoiceAdjusted):
        await lock_account(conn, contract.account_id)
        await commitments.evaluate(conn, contract.account_id, rt.clock.today(), rt.calendar,
                                   final=False, correlation_id=event.correlationid,
                                   causation_id=event.id)
    elif isinstance(contract, AutoPayEnrolled):
        await autopay.attribute_conversion(conn, contract.account_id, contract.enrolled_on,
                                           causation_id=event.id)


async def on_case_event(conn: asyncpg.Connection, event: CloudEvent) -> None:
    contract = decode(event.type, event.schemaversion, event.data)
    match contract:
        case CaseOpened() | CaseReopened() if (contract.type is CaseType.DISPUTE
                                               and contract.account_id is not None
                                               and contract.invoice_ids):
            if await holds.active_for_case(conn, str(contract.case_id)) is not None:
                return
            await billing_view.ensure_invoices(conn, contract.account_id, contract.invoice_ids)
            at = contract.opened_at if isinstance(contract, CaseOpened) else contract.reopened_at
            number = getattr(contract, "case_number", None) or str(contract.case_id)
            await holds.place(conn, holds.NewHold(
                account_id=contract.account_id, invoice_ids=holds.invoices_of(
                    contract.invoice_ids), reason=f"dispute case {number} is open",
                source=HoldSource.CASE, case_id=str(contract.case_id)),
                by=None, today=at.date(), correlation_id=event.correlationid,
                causation_id=event.id)
        case CaseResolved() | CaseClosed():
            hold_id = await holds.active_for_case(conn, str(contract.case_id))
            if hold_id is None:
                return
            how, at = ((HoldRelease.CASE_RESOLVED, contract.resolved_at)
                       if isinstance(contract, CaseResolved)
                       else (HoldRelease.CASE_CLOSED, contract.closed_at))
            await holds.release(conn, hold_id, how, by=None, today=at.date(),
                                correlation_id=event.correlationid, causation_id=event.id)


async def on_event(conn: asyncpg.Connection, event: CloudEvent) -> None:
    """The one consumer group (named after the service) reads billing's and cases' topics."""
    if event.type.startswith("cases."):
        await on_case_event(conn, event)
    else:
        await on_billing_event(conn, event)
