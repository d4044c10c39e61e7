"""Kafka handlers: billing's events feed the balances and judge promises; cases' events hold
and release disputed invoices. Each runs in the consumer runner's transaction (offsets, dedupe
and dead letters are the runner's), and each is safe to see an event twice or out of order.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from collections_service.adapters import billing_view
from collections_service.runtime import Runtime
from collections_service.service_layer import autopay, commitments, holds, lock_account, risk
from receivables_platform.consumer import handles
from receivables_platform.contracts.billing import (
    AutoPayEnrolled,
    InvoiceAdjusted,
    PaymentApplied,
    PaymentReversed,
)
from receivables_platform.contracts.cases import (
    CaseClosed,
    CaseLinked,
    CaseOpened,
    CaseReclassified,
    CaseReopened,
    CaseResolved,
    CaseType,
)
from receivables_platform.contracts.collections import HoldRelease, HoldSource
from receivables_platform.envelope import CloudEvent


async def on_billing_event(conn: asyncpg.Connection, event: CloudEvent, rt: Runtime) -> None:
    contract = event.contract
    await billing_view.apply(conn, contract, event.id)
    if isinstance(contract, PaymentApplied | PaymentReversed | InvoiceAdjusted):
        await lock_account(conn, contract.account_id)
        await commitments.evaluate(
            conn,
            contract.account_id,
            rt.clock.today(),
            rt.calendar,
            final=False,
            correlation_id=event.correlationid,
            causation_id=event.id,
        )
        await risk.clear_if_paid_up(
            conn,
            contract.account_id,
            rt.clock.today(),
            correlation_id=event.correlationid,
            causation_id=event.id,
        )
    elif isinstance(contract, AutoPayEnrolled):
        await autopay.attribute_conversion(
            conn, contract.account_id, contract.enrolled_on, causation_id=event.id
        )


async def on_case_event(conn: asyncpg.Connection, event: CloudEvent) -> None:
    """A dispute case holds its invoices while it is one and is open; a case's holds lift when it
    is resolved, closed or stops being a dispute. Placing holds only what the case does not hold
    yet, so a redelivered or late event holds nothing twice."""
    contract = event.contract
    match contract:
        case CaseOpened() | CaseReopened() | CaseLinked() | CaseReclassified() if (
            contract.type is CaseType.DISPUTE
        ):
            await _hold_disputed(conn, contract, event)
        case CaseReclassified() if contract.previous_type is CaseType.DISPUTE:
            await _release_case(
                conn,
                contract.case_id,
                HoldRelease.CASE_RECLASSIFIED,
                contract.reclassified_at,
                event,
            )
        case CaseResolved():
            await _release_case(
                conn, contract.case_id, HoldRelease.CASE_RESOLVED, contract.resolved_at, event
            )
        case CaseClosed():
            await _release_case(
                conn, contract.case_id, HoldRelease.CASE_CLOSED, contract.closed_at, event
            )


DisputeEvent = CaseOpened | CaseReopened | CaseLinked | CaseReclassified


async def _hold_disputed(
    conn: asyncpg.Connection, contract: DisputeEvent, event: CloudEvent
) -> None:
    if contract.account_id is None:
        return
    number = getattr(contract, "case_number", None) or str(contract.case_id)
    await holds.hold_for_case(
        conn,
        holds.NewHold(
            account_id=contract.account_id,
            invoice_ids=holds.invoices_of(contract.invoice_ids),
            reason=f"dispute case {number} is open",
            source=HoldSource.CASE,
            case_id=str(contract.case_id),
        ),
        today=_when(contract).date(),
        correlation_id=event.correlationid,
        causation_id=event.id,
    )


def _when(contract: DisputeEvent) -> datetime:
    match contract:
        case CaseOpened():
            return contract.opened_at
        case CaseReopened():
            return contract.reopened_at
        case CaseLinked():
            return contract.linked_at
        case CaseReclassified():
            return contract.reclassified_at


async def _release_case(
    conn: asyncpg.Connection, case_id: UUID, how: HoldRelease, at: datetime, event: CloudEvent
) -> None:
    await holds.release_case(
        conn,
        str(case_id),
        how,
        today=at.date(),
        correlation_id=event.correlationid,
        causation_id=event.id,
    )


@handles(
    *billing_view.FOLDED,
    CaseOpened,
    CaseReopened,
    CaseLinked,
    CaseReclassified,
    CaseResolved,
    CaseClosed,
)
async def on_event(conn: asyncpg.Connection, event: CloudEvent, runtime: Runtime) -> None:
    """The one consumer group (named after the service) reads billing's and cases' topics;
    judging promises on a payment needs the runtime's clock and calendar."""
    if event.type.startswith("cases."):
        await on_case_event(conn, event)
    else:
        await on_billing_event(conn, event, runtime)
