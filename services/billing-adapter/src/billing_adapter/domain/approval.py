"""Four eyes over large credits and write-offs: the approval aggregate and its thresholds.

A credit or write-off over its currency's threshold is not applied when asked: it
becomes an approval, one stream `approval-<id>`, that a supervisor who is not the
requester grants (then the credit is applied, in the same transaction) or rejects.
Below the threshold nothing changes: it is applied at once as before.

Thresholds are minor units per currency (`APPROVAL_THRESHOLDS=USD=500000,JPY=500000,
*=500000`); `*` covers every currency not named, and a currency with no rule at all
needs no approval. An amount equal to the threshold is still applied directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import (
    ApprovalAction,
    ApprovalGranted,
    ApprovalRejected,
    ApprovalRequested,
)
from receivables_platform.domain import RefusalKind, Refused
from receivables_platform.money import is_currency


@dataclass(frozen=True)
class ApprovalThresholds:
    by_currency: Mapping[str, int]
    otherwise: int | None = None

    @classmethod
    def parse(cls, text: str) -> ApprovalThresholds:
        """`USD=500000,*=100000`; ValueError naming the rule that is wrong."""
        rules: dict[str, int] = {}
        otherwise = None
        for rule in (r.strip() for r in text.split(",") if r.strip()):
            currency, _, amount = rule.partition("=")
            currency = currency.strip().upper()
            if not amount.strip().isdigit() or (currency != "*" and not is_currency(currency)):
                raise ValueError(
                    f"APPROVAL_THRESHOLDS rule {rule!r} is not CURRENCY=minor units "
                    "(or *=minor units)"
                )
            if currency == "*":
                otherwise = int(amount)
            else:
                rules[currency] = int(amount)
        return cls(rules, otherwise)

    def threshold(self, currency: str) -> int | None:
        return self.by_currency.get(currency, self.otherwise)

    def needs_approval(self, currency: str, amount_minor: int) -> bool:
        limit = self.threshold(currency)
        return limit is not None and amount_minor > limit


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Approval:
    approval_id: UUID | None = None
    status: ApprovalStatus | None = None
    request: ApprovalRequested | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RequestApproval:
    approval_id: UUID
    account_id: UUID
    invoice_id: UUID
    action: ApprovalAction
    amount_minor: int
    currency: str
    threshold_minor: int
    reason_code: str
    effective_date: date
    requested_by: str
    requested_at: datetime
    memo: str | None = None
    case_id: str | None = None
    correction_id: UUID | None = None


@dataclass(frozen=True)
class DecideApproval:
    approval_id: UUID
    approve: bool
    decided_by: str
    decided_at: datetime
    reason: str | None = None


def decide(command: RequestApproval | DecideApproval, state: Approval) -> list[EventContract]:
    if isinstance(command, RequestApproval):
        if state.status is not None:
            return []  # the same request again (a redelivered correction): already waiting
        return [
            ApprovalRequested(
                approval_id=command.approval_id,
                account_id=command.account_id,
                invoice_id=command.invoice_id,
                action=command.action,
                amount_minor=command.amount_minor,
                currency=command.currency,
                threshold_minor=command.threshold_minor,
                reason_code=command.reason_code,
                effective_date=command.effective_date,
                memo=command.memo,
                case_id=command.case_id,
                correction_id=command.correction_id,
                requested_by=command.requested_by,
                requested_at=command.requested_at,
            )
        ]
    request = state.request
    if request is None:
        raise Refused(
            f"no approval {command.approval_id}",
            field="approval_id",
            title="Not found",
            kind=RefusalKind.NOT_FOUND,
        )
    if state.status is not ApprovalStatus.PENDING:
        raise Refused(
            f"this approval was already {state.status} by {state.decided_by}",
            field="approval_id",
            title="Already decided",
            kind=RefusalKind.CONFLICT,
        )
    if command.decided_by == request.requested_by:
        raise Refused(
            "four eyes: the person who asked for it cannot approve or reject it",
            field="approval_id",
            title="Requester cannot decide",
            kind=RefusalKind.NOT_PERMITTED,
        )
    common = {
        "approval_id": request.approval_id,
        "account_id": request.account_id,
        "invoice_id": request.invoice_id,
        "action": request.action,
    }
    if command.approve:
        return [
            ApprovalGranted(
                **common, approved_by=command.decided_by, approved_at=command.decided_at
            )
        ]
    if not command.reason:
        raise Refused("say why it is rejected", field="reason", title="Reason required")
    return [
        ApprovalRejected(
            **common,
            rejected_by=command.decided_by,
            rejected_at=command.decided_at,
            reason=command.reason,
        )
    ]


def evolve(state: Approval, event: EventContract) -> Approval:
    if isinstance(event, ApprovalRequested):
        return Approval(event.approval_id, ApprovalStatus.PENDING, event)
    if isinstance(event, ApprovalGranted):
        return replace(
            state,
            status=ApprovalStatus.APPROVED,
            decided_by=event.approved_by,
            decided_at=event.approved_at,
        )
    if isinstance(event, ApprovalRejected):
        return replace(
            state,
            status=ApprovalStatus.REJECTED,
            decided_by=event.rejected_by,
            decided_at=event.rejected_at,
            reason=event.reason,
        )
    return state
