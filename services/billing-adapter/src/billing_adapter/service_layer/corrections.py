"""Corrections a case asks of billing: applied as an invoice adjustment, or rejected with why.

Runs in the consumer runner's transaction for `cases.events.v1`, so the answer
commits with the runner's record of the request: a redelivered request is a
no-op there. A request re-sent under a new event id (a case replayed, a
producer retry) is answered once too: the adjustment carries the request's
`correction_id` as its `adjustment_id`, and a rejection is the one event of the
stream `correction-<correction_id>`, so both are found before deciding again.
The answer is caused by the request (`causationid`) and continues its
correlation, which is how the case finds its outcome.
"""

from __future__ import annotations

import re
from uuid import UUID

import asyncpg
import structlog

from billing_adapter.adapters.repositories import store
from billing_adapter.domain.commands import AdjustInvoice
from billing_adapter.service_layer.accounts import INVOICE, account_of, execute, get_account
from receivables_platform.business_dates import business_dates
from receivables_platform.contracts.base import decode
from receivables_platform.contracts.billing import (
    AdjustmentKind,
    CorrectionRejected,
    InvoiceAdjusted,
)
from receivables_platform.contracts.cases import CaseCorrectionRequested
from receivables_platform.domain import NotFound, Refused
from receivables_platform.envelope import CloudEvent
from receivables_platform.store import PendingStream

log = structlog.get_logger(__name__)


async def answer_case_event(conn: asyncpg.Connection, event: CloudEvent) -> None:
    """The cases topic carries much more; billing acts on correction requests only."""
    if event.type != CaseCorrectionRequested.event_type:
        return
    request = decode(event.type, event.schemaversion, event.data)
    assert isinstance(request, CaseCorrectionRequested)
    await answer_correction(conn, request, causation_id=event.id,
                            correlation_id=event.correlationid or event.id)


async def answer_correction(conn: asyncpg.Connection, request: CaseCorrectionRequested, *,
                            causation_id: str, correlation_id: str) -> None:
    if await _already_answered(conn, request):
        log.info("billing.correction_already_answered", correction_id=str(request.correction_id))
        return
    try:
        await _check_invoice_belongs(conn, request)
        await execute(conn, _adjustment(request), causation_id=causation_id,
                      correlation_id=correlation_id)
    except Refused as refusal:  # NotFound included: an unknown account or invoice
        await _reject(conn, request, refusal, causation_id, correlation_id)


def _adjustment(request: CaseCorrectionRequested) -> AdjustInvoice:
    return AdjustInvoice(
        account_id=request.account_id, invoice_id=request.invoice_id,
        adjustment_id=request.correction_id, kind=AdjustmentKind(request.direction.value),
        amount_minor=request.amount_minor, reason_code=request.reason_code,
        # the team's date when the case asked: its UTC date is tomorrow for an evening in the US
        effective_date=business_dates().today(request.requested_at),
        case_id=str(request.case_id),
        memo=request.reason, currency=request.currency)


async def _check_invoice_belongs(conn: asyncpg.Connection, request: CaseCorrectionRequested
                                 ) -> None:
    owner = await account_of(conn, INVOICE, request.invoice_id)
    if owner != request.account_id:
        raise Refused(f"invoice {request.invoice_id} belongs to another account",
                      field="invoice_id", title="Invoice of another account")


async def _already_answered(conn: asyncpg.Connection, request: CaseCorrectionRequested) -> bool:
    if await store.load(conn, _rejection_stream(request.correction_id)):
        return True
    try:
        loaded = await get_account(conn, request.account_id, history=True)
    except NotFound:
        return False
    return any(isinstance(e := r.contract(), InvoiceAdjusted)
               and e.adjustment_id == request.correction_id for r in loaded.history)


async def _reject(conn: asyncpg.Connection, request: CaseCorrectionRequested,
                  refusal: Refused, causation_id: str, correlation_id: str) -> None:
    rejected = CorrectionRejected(
        account_id=request.account_id, case_id=str(request.case_id),
        correction_id=str(request.correction_id), invoice_id=request.invoice_id,
        reason_code=_reason_code(refusal), detail=str(refusal))
    stream = PendingStream(_rejection_stream(request.correction_id), 0, [rejected],
                           subject=str(request.account_id), partition_key=str(request.account_id))
    await store.append(conn, [stream], correlation_id=correlation_id, causation_id=causation_id)
    log.info("billing.correction_rejected", correction_id=str(request.correction_id),
             reason_code=rejected.reason_code)


def _reason_code(refusal: Refused) -> str:
    """A code a case screen can branch on: `credit_exceeds_open_balance`, `not_found`."""
    return re.sub(r"[^a-z0-9]+", "_", refusal.title.lower()).strip("_")[:64] or "refused"


def _rejection_stream(correction_id: UUID) -> str:
    return f"correction-{correction_id}"
