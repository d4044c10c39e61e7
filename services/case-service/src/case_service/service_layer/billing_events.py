"""What case-service takes from `billing.events.v1`: its view of accounts, and correction answers.

Runs inside the consumer's transaction (offsets and processed event ids commit
with it). A billing answer to a correction becomes an event on the case, so
the case shows the outcome; a credit or write-off waiting for approval, asked for by a
case or not, notifies the supervisors: `invoice.adjusted` whose `case_id` names one of our
cases is matched to the pending correction by `adjustment_id == correction_id`
(how billing-adapter answers a request), else by invoice, amount and
direction; `correction.rejected` carries the `correction_id`.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import structlog

from case_service.adapters import billing_view
from case_service.adapters.repositories import cases
from case_service.domain import commands as c
from case_service.domain.notifications import credit_approval
from case_service.domain.state import Case, CorrectionOutcome
from case_service.service_layer.cases import execute
from case_service.service_layer.notifications import decide
from receivables_platform.consumer import handles
from receivables_platform.contracts.billing import (
    AccountRegistered,
    AccountUpdated,
    ApprovalRequested,
    CorrectionRejected,
    InvoiceAdjusted,
    InvoiceIssued,
)
from receivables_platform.contracts.cases import CorrectionDirection
from receivables_platform.envelope import CloudEvent

log = structlog.get_logger("case_service.billing_events")


@handles(
    AccountRegistered,
    AccountUpdated,
    InvoiceIssued,
    InvoiceAdjusted,
    CorrectionRejected,
    ApprovalRequested,
)
async def handle_billing_event(conn: asyncpg.Connection, event: CloudEvent) -> None:
    contract = event.contract
    if isinstance(contract, AccountRegistered):
        await billing_view.upsert_account(
            conn, contract.account_id, contract.name, contract.currency
        )
        await billing_view.replace_contacts(
            conn, contract.account_id, [(x.email, x.name) for x in contract.contacts if x.email]
        )
    elif isinstance(contract, AccountUpdated):
        if contract.name is not None:
            await billing_view.rename_account(conn, contract.account_id, contract.name)
        if contract.contacts is not None:
            await billing_view.replace_contacts(
                conn, contract.account_id, [(x.email, x.name) for x in contract.contacts if x.email]
            )
    elif isinstance(contract, InvoiceIssued):
        await billing_view.upsert_invoice(
            conn,
            billing_view.KnownInvoice(contract.invoice_id, contract.account_id, contract.currency),
            contract.external_id,
        )
    elif isinstance(contract, InvoiceAdjusted) and contract.case_id:
        await _adjusted(conn, contract, event.id, event.time)
    elif isinstance(contract, CorrectionRejected):
        await _rejected(conn, contract, event.id, event.time)
    elif isinstance(contract, ApprovalRequested):
        case = await _our_case(conn, contract.case_id) if contract.case_id else None
        await decide(
            conn,
            [
                credit_approval(
                    contract,
                    case=case,
                    invoice=await billing_view.invoice_label(conn, contract.invoice_id),
                )
            ],
        )


async def _our_case(conn: asyncpg.Connection, case_id: str) -> Case | None:
    try:
        stream = UUID(case_id)
    except ValueError:
        return None
    loaded = await cases.load(conn, stream, history=False)
    return loaded.state if loaded.state.opened else None


async def _adjusted(
    conn: asyncpg.Connection, e: InvoiceAdjusted, event_id: str, at: datetime
) -> None:
    assert e.case_id is not None
    case = await _our_case(conn, e.case_id)
    if case is None:
        log.info("adjustment names no case of ours", case_id=e.case_id)
        return
    direction = CorrectionDirection(e.kind.value)
    pending = [x for x in case.corrections.values() if x.outcome is CorrectionOutcome.REQUESTED]
    match = next((x for x in pending if x.correction_id == e.adjustment_id), None) or next(
        (
            x
            for x in pending
            if (x.invoice_id, x.amount_minor, x.direction)
            == (e.invoice_id, e.amount_minor, direction)
        ),
        None,
    )
    if match is None:
        log.info("adjustment answers no pending correction", case_id=e.case_id)
        return
    await execute(
        conn,
        c.RecordCorrectionApplied(
            case.case_id or UUID(e.case_id),
            match.correction_id,
            e.adjustment_id,
            e.amount_minor,
            direction,
            e.currency,
            e.effective_date,
            at,
        ),
        causation_id=event_id,
    )


async def _rejected(
    conn: asyncpg.Connection, e: CorrectionRejected, event_id: str, at: datetime
) -> None:
    case = await _our_case(conn, e.case_id)
    try:
        correction_id = UUID(e.correction_id)
    except ValueError:
        correction_id = None
    if case is None or correction_id not in case.corrections:
        log.info(
            "rejection answers no correction of ours",
            case_id=e.case_id,
            correction_id=e.correction_id,
        )
        return
    assert case.case_id is not None and correction_id is not None
    await execute(
        conn,
        c.RecordCorrectionRejected(case.case_id, correction_id, e.reason_code, e.detail, at),
        causation_id=event_id,
    )
