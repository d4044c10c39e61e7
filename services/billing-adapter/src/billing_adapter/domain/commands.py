"""What integrations ask of an account; pure data, validated by the aggregate's `decide`.

Every command names the account it is for: the account is the aggregate
(see `account.py`), so that is where each one is decided. Every command also
carries its `actor` (the token's subject, `stripe` for its webhooks), which every
event it decides records: the audit trail says who, not only what.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from receivables_platform.contracts.billing import (
    AdjustmentKind,
    Contact,
    PayLinkPurpose,
    PaymentMethod,
    ReversalReason,
)


@dataclass(frozen=True)
class RegisterAccount:
    account_id: UUID
    external_id: str
    name: str
    currency: str
    payment_terms_days: int
    contacts: tuple[Contact, ...] = ()
    segment: str | None = None
    actor: str | None = None


@dataclass(frozen=True)
class UpdateAccount:
    """None leaves a field as it is; `clear_segment` removes the segment."""

    account_id: UUID
    name: str | None = None
    contacts: tuple[Contact, ...] | None = None
    payment_terms_days: int | None = None
    segment: str | None = None
    clear_segment: bool = False
    actor: str | None = None


@dataclass(frozen=True)
class EnrolAutoPay:
    account_id: UUID
    payment_method_reference: str
    payment_method_type: str
    enrolled_on: date
    actor: str | None = None


@dataclass(frozen=True)
class CancelAutoPay:
    account_id: UUID
    cancelled_on: date
    reason: str | None = None
    actor: str | None = None


@dataclass(frozen=True)
class Line:
    description: str
    quantity: int
    unit_price_minor: int

    @property
    def amount_minor(self) -> int:
        return self.quantity * self.unit_price_minor


@dataclass(frozen=True)
class DueAmount:
    due_date: date
    amount_minor: int


@dataclass(frozen=True)
class IssueInvoice:
    """`lines` absent: the billing system sent a total only, which becomes one line.

    `currency` absent: the account's. `due_date` absent: issue date plus the
    account's payment terms. `instalments` absent: the whole total on the due date.
    """

    invoice_id: UUID
    account_id: UUID
    external_id: str
    total_minor: int
    issue_date: date
    currency: str | None = None
    due_date: date | None = None
    lines: tuple[Line, ...] | None = None
    tax_minor: int = 0
    instalments: tuple[DueAmount, ...] | None = None
    actor: str | None = None


@dataclass(frozen=True)
class AdjustInvoice:
    account_id: UUID
    invoice_id: UUID
    adjustment_id: UUID
    kind: AdjustmentKind
    amount_minor: int
    reason_code: str
    effective_date: date
    case_id: str | None = None
    memo: str | None = None
    currency: str | None = None
    actor: str | None = None
    approved_by: str | None = None


@dataclass(frozen=True)
class VoidInvoice:
    account_id: UUID
    invoice_id: UUID
    voided_on: date
    reason: str | None = None
    actor: str | None = None


@dataclass(frozen=True)
class WriteOffInvoice:
    account_id: UUID
    invoice_id: UUID
    reason_code: str
    written_off_on: date
    actor: str | None = None
    approved_by: str | None = None


@dataclass(frozen=True)
class RecordPayment:
    payment_id: UUID
    account_id: UUID
    external_id: str
    amount_minor: int
    currency: str
    method: PaymentMethod
    received_on: date
    reference: str | None = None
    actor: str | None = None


@dataclass(frozen=True)
class Allocation:
    invoice_id: UUID
    amount_minor: int


@dataclass(frozen=True)
class ApplyPayment:
    """`allocations` None: the payment's unapplied cash pays open invoices oldest-first."""

    account_id: UUID
    payment_id: UUID
    applied_on: date
    allocations: tuple[Allocation, ...] | None = None
    actor: str | None = None


@dataclass(frozen=True)
class ReversePayment:
    account_id: UUID
    payment_id: UUID
    reason: ReversalReason
    reversed_on: date
    actor: str | None = None


@dataclass(frozen=True)
class PayLinkTerms:
    """What a link asks: the invoices and the amount they are open for (none for auto-pay)."""

    purpose: PayLinkPurpose
    invoice_ids: tuple[UUID, ...]
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class RecordPayLink:
    """A link the provider made for `terms`: recorded only if they still hold.

    The provider is asked first (its answer is the url and reference), so the
    account may have moved in between: a payment applied meanwhile makes the
    link ask for money no longer owed, and it is refused rather than recorded.
    """

    account_id: UUID
    pay_link_id: UUID
    terms: PayLinkTerms
    provider: str
    provider_reference: str
    url: str
    expires_at: datetime
    actor: str | None = None


Command = (
    RegisterAccount
    | UpdateAccount
    | EnrolAutoPay
    | CancelAutoPay
    | IssueInvoice
    | AdjustInvoice
    | VoidInvoice
    | WriteOffInvoice
    | RecordPayment
    | ApplyPayment
    | ReversePayment
    | RecordPayLink
)
