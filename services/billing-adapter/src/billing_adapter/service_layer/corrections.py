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
from datetime import date

import asyncpg
import structlog

from billing_adapter.adapters.repositories import store
from billing_adapter.domain.approval import ApprovalThresholds
from billing_adapter.domain.commands import AdjustInvoice
from billing_adapter.service_layer.accounts import INVOICE, account_of, get_account
from billing_adapter.service_layer.approvals import (
    credit_or_write_off,
    record_rejection,
    rejection_stream,
)
from billing_adapter.settings import BillingDependencies
from receivables_platform.business_dates import business_dates
from receivables_platform.consumer import handles
from receivables_platform.contracts.base import decode
from receivables_platform.contracts.billing import (
    AdjustmentKind,
    CorrectionRejected,
    InvoiceAdjusted,
)
from receivables_platform.contracts.cases import CaseCorrectionRequested
from receivables_platform.domain import NotFound, Refused
from receivables_platform.envelope import CloudEvent

log = structlog.get_logger(__name__)


@handles(CaseCorrectionRequested)
async def answer_case_event(
    conn: asyncpg.Connection, event: CloudEvent, deps: BillingDependencies
) -> None:
    """The cases topic carries much more; billing acts on correction requests only."""
    if event.type != CaseCorrectionRequested.event_type:
        return
    request = decode(event.type, event.schemaversion, event.data)
    assert isinstance(request, CaseCorrectionRequested)
    await answer_correction(
        conn,
        request,
        deps.approvals,
        causation_id=event.id,
        correlation_id=event.correlationid or event.id,
    )


async def answer_correction(
    conn: asyncpg.Connection,
    request: CaseCorrectionRequested,
    thresholds: ApprovalThresholds,
    *,
    causation_id: str,
    correlation_id: str,
) -> None:
    if await _already_answered(conn, request):
        log.info("billing.correction_already_answered", correction_id=str(request.correction_id))
        return
    try:
        await _check_invoice_belongs(conn, request)
        await credit_or_write_off(
            conn,
            _adjustment(request, _effective_date(request)),
            thresholds,
            requested_by=request.requested_by,
            at=request.requested_at,
            correction_id=request.correction_id,
            causation_id=causation_id,
            correlation_id=correlation_id,
        )
    except Refused as refusal:  # NotFound included: an unknown account or invoice
        await _reject(conn, request, refusal, causation_id, correlation_id)


def _effective_date(request: CaseCorrectionRequested) -> date:
    """The team's date when the case asked: its UTC date is tomorrow for an evening in the US.

    A request stored before request instants were range-checked may be dated year 1
    (which is year 0, no date at all, west of UTC) or 9999: it is refused with its
    reason, so the case hears `correction.rejected` instead of waiting on a handler
    that fails every time it is redelivered.
    """
    settings = business_dates()
    try:
        day: date | None = settings.today(request.requested_at)
    except OverflowError:
        day = None
    if day is None or not settings.contains(day):
        raise Refused(
            f"requested_at {request.requested_at.isoformat()} is outside the business "
            f"dates {settings.earliest} to {settings.latest}",
            field="requested_at",
            title="Outside the business dates",
        )
    return day


def _adjustment(request: CaseCorrectionRequested, effective_date: date) -> AdjustInvoice:
    return AdjustInvoice(
        account_id=request.account_id,
        invoice_id=request.invoice_id,
        adjustment_id=request.correction_id,
        kind=AdjustmentKind(request.direction.value),
        amount_minor=request.amount_minor,
        reason_code=request.reason_code,
        effective_date=effective_date,
        case_id=str(request.case_id),
        memo=request.reason,
        currency=request.currency,
        actor=request.requested_by,
    )


async def _check_invoice_belongs(
    conn: asyncpg.Connection, request: CaseCorrectionRequested
) -> None:
    owner = await account_of(conn, INVOICE, request.invoice_id)
    if owner != request.account_id:
        raise Refused(
            f"invoice {request.invoice_id} belongs to another account",
            field="invoice_id",
            title="Invoice of another account",
        )


async def _already_answered(conn: asyncpg.Connection, request: CaseCorrectionRequested) -> bool:
    if await store.load(conn, rejection_stream(request.correction_id)):
        return True
    try:
        loaded = await get_account(conn, request.account_id, history=True)
    except NotFound:
        return False
    return any(
        isinstance(e := r.contract(), InvoiceAdjusted) and e.adjustment_id == request.correction_id
        for r in loaded.history
    )


async def _reject(
    conn: asyncpg.Connection,
    request: CaseCorrectionRequested,
    refusal: Refused,
    causation_id: str,
    correlation_id: str,
) -> None:
    rejected = CorrectionRejected(
        account_id=request.account_id,
        case_id=str(request.case_id),
        correction_id=str(request.correction_id),
        invoice_id=request.invoice_id,
        reason_code=_reason_code(refusal),
        detail=str(refusal),
        actor=request.requested_by,
    )
    await record_rejection(conn, rejected, correlation_id=correlation_id, causation_id=causation_id)
    log.info(
        "billing.correction_rejected",
        correction_id=str(request.correction_id),
        reason_code=rejected.reason_code,
    )


def _reason_code(refusal: Refused) -> str:
    """A code a case screen can branch on: `credit_exceeds_open_balance`, `not_found`."""
    return re.sub(r"[^a-z0-9]+", "_", refusal.title.lower()).strip("_")[:64] or "refused"
