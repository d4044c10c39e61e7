"""Large credits and write-offs wait for a second person; the rest are applied at once.

Asked through the API or by a case's correction request, a credit or write-off is
first decided on the account as it stands (a dry run: what could never be applied
is refused now, not at approval), then either applied, or, over the currency's
threshold, recorded as an approval. Granting one applies exactly what was asked,
recorded as the requester's with the approver beside it, in the same transaction;
rejecting a case's request answers the case with `correction.rejected`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from billing_adapter.adapters import approval_rows
from billing_adapter.adapters.repositories import approvals, store
from billing_adapter.domain import approval as a
from billing_adapter.domain.account import decide
from billing_adapter.domain.approval import ApprovalThresholds
from billing_adapter.domain.commands import AdjustInvoice, WriteOffInvoice
from billing_adapter.domain.state import Account
from billing_adapter.service_layer.accounts import Check, execute, get_account, team_today
from receivables_platform.contracts.billing import (
    AdjustmentKind,
    ApprovalAction,
    ApprovalRequested,
    CorrectionRejected,
    InvoiceAdjusted,
    InvoiceWrittenOff,
)
from receivables_platform.db.transaction import atomic
from receivables_platform.domain import NotFound
from receivables_platform.ids import new_id
from receivables_platform.repository import Loaded
from receivables_platform.store import PendingStream


@dataclass(frozen=True)
class Outcome:
    """Either the account after the change, or the approval it now waits for."""

    applied: Loaded[Account] | None = None
    waiting: Loaded[a.Approval] | None = None


async def _save_row(conn: asyncpg.Connection, state: a.Approval, _: object) -> None:
    version = await store.stream_version(conn, approvals.stream_id(state.approval_id))
    await approval_rows.save(conn, state, version)


def _subject(state: a.Approval) -> str:
    return str(state.request.account_id) if state.request else str(state.approval_id)


async def credit_or_write_off(
    conn: asyncpg.Connection,
    command: AdjustInvoice | WriteOffInvoice,
    thresholds: ApprovalThresholds,
    *,
    requested_by: str,
    at: datetime,
    check: Check | None = None,
    correction_id: UUID | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> Outcome:
    async with atomic(conn):
        loaded = await get_account(conn, command.account_id)
        if check is not None:
            check(loaded.state, loaded.version)
        [decided] = decide(command, loaded.state, team_today())
        request = _approval_request(command, decided, thresholds, requested_by, at, correction_id)
        if request is None:
            return Outcome(
                applied=await execute(
                    conn,
                    command,
                    check=check,
                    correlation_id=correlation_id,
                    causation_id=causation_id,
                )
            )
        waiting = await approvals.execute(
            conn,
            request.approval_id,
            lambda state: a.decide(request, state),
            subject=_subject,
            after=_save_row,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        return Outcome(waiting=waiting)


def _approval_request(
    command: AdjustInvoice | WriteOffInvoice,
    decided: object,
    thresholds: ApprovalThresholds,
    requested_by: str,
    at: datetime,
    correction_id: UUID | None,
) -> a.RequestApproval | None:
    if isinstance(decided, InvoiceAdjusted) and isinstance(command, AdjustInvoice):
        if decided.kind is not AdjustmentKind.CREDIT:
            return None
        action, date, memo, case_id = (
            ApprovalAction.CREDIT,
            decided.effective_date,
            decided.memo,
            decided.case_id,
        )
    elif isinstance(decided, InvoiceWrittenOff):
        action, date, memo, case_id = (ApprovalAction.WRITE_OFF, decided.written_off_on, None, None)
    else:
        return None
    if not thresholds.needs_approval(decided.currency, decided.amount_minor):
        return None
    threshold = thresholds.threshold(decided.currency)
    assert threshold is not None
    return a.RequestApproval(
        approval_id=correction_id or new_id(),
        account_id=decided.account_id,
        invoice_id=decided.invoice_id,
        action=action,
        amount_minor=decided.amount_minor,
        currency=decided.currency,
        threshold_minor=threshold,
        reason_code=decided.reason_code,
        effective_date=date,
        requested_by=requested_by,
        requested_at=at,
        memo=memo,
        case_id=case_id,
        correction_id=correction_id,
    )


async def get_approval(conn: asyncpg.Connection, approval_id: UUID) -> Loaded[a.Approval]:
    loaded = await approvals.load(conn, approval_id, history=False)
    if loaded.state.request is None:
        raise NotFound(f"no approval {approval_id}", field="approval_id")
    return loaded


async def pending(
    conn: asyncpg.Connection,
    status: a.ApprovalStatus,
    limit: int,
    after: tuple[datetime, UUID] | None,
) -> list[Loaded[a.Approval]]:
    ids = await approval_rows.listed(conn, status.value, limit, after)
    return [await get_approval(conn, approval_id) for approval_id in ids]


def _applying(request: ApprovalRequested, approver: str) -> AdjustInvoice | WriteOffInvoice:
    if request.action is ApprovalAction.CREDIT:
        return AdjustInvoice(
            account_id=request.account_id,
            invoice_id=request.invoice_id,
            adjustment_id=request.correction_id or request.approval_id,
            kind=AdjustmentKind.CREDIT,
            amount_minor=request.amount_minor,
            reason_code=request.reason_code,
            effective_date=request.effective_date,
            case_id=request.case_id,
            memo=request.memo,
            currency=request.currency,
            actor=request.requested_by,
            approved_by=approver,
        )
    return WriteOffInvoice(
        account_id=request.account_id,
        invoice_id=request.invoice_id,
        reason_code=request.reason_code,
        written_off_on=request.effective_date,
        actor=request.requested_by,
        approved_by=approver,
    )


async def decide_approval(
    conn: asyncpg.Connection,
    command: a.DecideApproval,
    *,
    check: Callable[[a.Approval, int], None] | None = None,
    correlation_id: str | None = None,
) -> Loaded[a.Approval]:
    """Grant (and apply) or reject; a credit that can no longer be applied (the invoice was
    paid or voided meanwhile) refuses the grant and changes nothing: reject it instead."""
    async with atomic(conn):
        await get_approval(conn, command.approval_id)
        decided = await approvals.execute(
            conn,
            command.approval_id,
            lambda state: a.decide(command, state),
            subject=_subject,
            check=check,
            after=_save_row,
            correlation_id=correlation_id,
        )
        request = decided.state.request
        assert request is not None
        if command.approve:
            await execute(
                conn, _applying(request, command.decided_by), correlation_id=correlation_id
            )
        elif request.correction_id is not None and request.case_id is not None:
            await record_rejection(
                conn,
                CorrectionRejected(
                    account_id=request.account_id,
                    case_id=request.case_id,
                    correction_id=str(request.correction_id),
                    invoice_id=request.invoice_id,
                    reason_code="approval_rejected",
                    detail=f"rejected by {command.decided_by}: {command.reason}"[:1000],
                    actor=command.decided_by,
                ),
                correlation_id=correlation_id,
            )
        return decided


def rejection_stream(correction_id: UUID | str) -> str:
    return f"correction-{correction_id}"


async def record_rejection(
    conn: asyncpg.Connection,
    rejected: CorrectionRejected,
    *,
    correlation_id: str | None,
    causation_id: str | None = None,
) -> None:
    """The one event of the stream `correction-<id>`: how a case hears its request refused."""
    stream = PendingStream(
        rejection_stream(rejected.correction_id),
        0,
        [rejected],
        subject=str(rejected.account_id),
        partition_key=str(rejected.account_id),
    )
    await store.append(conn, [stream], correlation_id=correlation_id, causation_id=causation_id)
