"""Request and response bodies of the billing adapter's routes.

Requests forbid unknown fields and validate types, signs and currencies, so
malformed input is a 422 naming the field before any use case runs; the
domain then refuses what only the account's state can judge.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from billing_adapter.domain.approval import Approval, ApprovalStatus
from billing_adapter.domain.state import Account, InvoiceBalance, PayLink, PaymentBalance
from receivables_platform.business_dates import BusinessDate
from receivables_platform.contracts.billing import (
    AdjustmentKind,
    ApprovalAction,
    Contact,
    PayLinkPurpose,
    PaymentMethod,
    ReversalReason,
)
from receivables_platform.money import MAX_MINOR, CurrencyCode
from receivables_platform.store import RecordedEvent
from receivables_platform.web.bodies import RequestBody
from receivables_platform.web.pages import Page

Positive = Annotated[int, Field(strict=True, gt=0, le=MAX_MINOR)]
NonNegative = Annotated[int, Field(strict=True, ge=0, le=MAX_MINOR)]
ExternalId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="The billing system's id; creates are idempotent on it",
    ),
]
Email = Annotated[str, StringConstraints(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, StringConstraints(max_length=40, pattern=r"^\+?[0-9][0-9 ()\-.]{5,38}$")]
ReasonCode = Annotated[str, Field(min_length=1, max_length=64)]


class Request(RequestBody):
    """Unknown fields and NUL characters refused (the platform's request body)."""


class ContactIn(Request):
    name: str | None = Field(default=None, max_length=200)
    email: Email | None = None
    phone: Phone | None = None
    role: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        pattern=r"^[a-z][a-z0-9_]*$",
        examples=["billing", "billing_cc"],
        description="Dunning emails go to and copy contacts by role",
    )

    def contract(self) -> Contact:
        return Contact(name=self.name, email=self.email, phone=self.phone, role=self.role)


class RegisterAccountRequest(Request):
    external_id: ExternalId
    name: str = Field(min_length=1, max_length=200)
    currency: CurrencyCode
    payment_terms_days: int = Field(
        strict=True, ge=0, le=365, description="Net terms in days (Net 30 is 30)"
    )
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)
    segment: str | None = Field(default=None, min_length=1, max_length=64)


class UpdateAccountRequest(Request):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    payment_terms_days: int | None = Field(default=None, strict=True, ge=0, le=365)
    contacts: list[ContactIn] | None = Field(default=None, max_length=20)
    segment: str | None = Field(
        default=None, min_length=1, max_length=64, description="null removes the segment"
    )


class EnrolAutoPayRequest(Request):
    payment_method_reference: str = Field(
        min_length=1,
        max_length=200,
        description="The billing system's payment-method token; never a card or account number",
    )
    payment_method_type: str = Field(min_length=1, max_length=32, examples=["card", "ach"])
    enrolled_on: BusinessDate


class CancelAutoPayRequest(Request):
    cancelled_on: BusinessDate
    reason: str | None = Field(default=None, max_length=200)


class LineIn(Request):
    description: str = Field(min_length=1, max_length=500)
    quantity: Positive
    unit_price_minor: NonNegative


class InstalmentIn(Request):
    due_date: BusinessDate
    amount_minor: Positive


class IssueInvoiceRequest(Request):
    external_id: ExternalId
    account_id: UUID
    currency: CurrencyCode | None = Field(default=None, description="Default: the account's")
    total_minor: Positive
    issue_date: BusinessDate
    due_date: BusinessDate | None = Field(
        default=None, description="Default: issue date plus the account's terms"
    )
    lines: list[LineIn] | None = Field(default=None, min_length=1, max_length=1000)
    tax_minor: NonNegative = 0
    instalments: list[InstalmentIn] | None = Field(default=None, min_length=1, max_length=120)


class AdjustInvoiceRequest(Request):
    kind: AdjustmentKind
    amount_minor: Positive
    reason_code: ReasonCode
    effective_date: BusinessDate
    currency: CurrencyCode | None = None
    case_id: str | None = Field(default=None, min_length=1, max_length=64)
    memo: str | None = Field(default=None, max_length=1000)


class VoidInvoiceRequest(Request):
    voided_on: BusinessDate
    reason: str | None = Field(default=None, max_length=200)


class WriteOffRequest(Request):
    reason_code: ReasonCode
    written_off_on: BusinessDate


class RecordPaymentRequest(Request):
    external_id: ExternalId
    account_id: UUID
    amount_minor: Positive
    currency: CurrencyCode
    method: PaymentMethod
    reference: str | None = Field(default=None, max_length=200)
    received_on: BusinessDate


class AllocationIn(Request):
    invoice_id: UUID
    amount_minor: Positive


class ApplyPaymentRequest(Request):
    applied_on: BusinessDate
    allocations: list[AllocationIn] | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Absent: the unapplied cash pays open invoices oldest due date first",
    )


class ReversePaymentRequest(Request):
    reason: ReversalReason
    reversed_on: BusinessDate


# -- responses ----------------------------------------------------------------------------------


class Amount(BaseModel):
    currency: str
    amount_minor: int


def amounts(per_currency: dict[str, int]) -> list[Amount]:
    return [Amount(currency=c, amount_minor=a) for c, a in sorted(per_currency.items())]


class AutoPayOut(BaseModel):
    enrolled: bool
    payment_method_reference: str | None = None
    payment_method_type: str | None = None
    enrolled_on: date | None = None


class AccountResponse(BaseModel):
    account_id: UUID
    external_id: str
    name: str
    currency: str
    payment_terms_days: int
    segment: str | None
    contacts: list[Contact]
    autopay: AutoPayOut
    open_balance: list[Amount] = Field(description="Open balance per currency")
    credit: list[Amount] = Field(description="Unapplied cash per currency")
    version: int

    @classmethod
    def of(cls, state: Account, version: int) -> AccountResponse:
        assert state.account_id is not None
        auto = state.autopay
        return cls(
            account_id=state.account_id,
            external_id=state.external_id,
            name=state.name,
            currency=state.currency,
            payment_terms_days=state.payment_terms_days,
            segment=state.segment,
            contacts=list(state.contacts),
            autopay=AutoPayOut(enrolled=False)
            if auto is None
            else AutoPayOut(
                enrolled=True,
                payment_method_reference=auto.payment_method_reference,
                payment_method_type=auto.payment_method_type,
                enrolled_on=auto.enrolled_on,
            ),
            open_balance=amounts(state.open_balances()),
            credit=amounts(state.credits()),
            version=version,
        )


class LineOut(BaseModel):
    description: str
    quantity: int
    unit_price_minor: int
    amount_minor: int


class InstalmentOut(BaseModel):
    due_date: date
    amount_minor: int


class InvoiceResponse(BaseModel):
    invoice_id: UUID
    account_id: UUID
    external_id: str
    currency: str
    total_minor: int
    subtotal_minor: int
    tax_minor: int
    issue_date: date
    due_date: date
    lines: list[LineOut]
    instalments: list[InstalmentOut]
    status: str
    open_minor: int
    applied_minor: int
    version: int = Field(description="The invoice's ETag: the account version it last changed at")

    @classmethod
    def of(cls, account_id: UUID, i: InvoiceBalance) -> InvoiceResponse:
        return cls(
            invoice_id=i.invoice_id,
            account_id=account_id,
            external_id=i.external_id,
            currency=i.currency,
            total_minor=i.total_minor,
            subtotal_minor=i.subtotal_minor,
            tax_minor=i.tax_minor,
            issue_date=i.issue_date,
            due_date=i.due_date,
            lines=[
                LineOut(description=d, quantity=q, unit_price_minor=u, amount_minor=a)
                for d, q, u, a in i.lines
            ],
            instalments=[InstalmentOut(due_date=d, amount_minor=a) for d, a in i.instalments],
            status=i.status.value,
            open_minor=i.open_minor,
            applied_minor=i.applied_minor - i.reopened_minor,
            version=i.version,
        )


class InvoicePage(Page[InvoiceResponse]):
    """One page of an account's invoices, by due date."""


class ApplicationOut(BaseModel):
    invoice_id: UUID
    amount_minor: int


class PaymentResponse(BaseModel):
    payment_id: UUID
    account_id: UUID
    external_id: str
    amount_minor: int
    currency: str
    method: str
    reference: str | None
    received_on: date
    applications: list[ApplicationOut]
    unapplied_minor: int
    reversed: bool
    version: int

    @classmethod
    def of(cls, account_id: UUID, p: PaymentBalance) -> PaymentResponse:
        return cls(
            payment_id=p.payment_id,
            account_id=account_id,
            external_id=p.external_id,
            amount_minor=p.amount_minor,
            currency=p.currency,
            method=p.method,
            reference=p.reference,
            received_on=p.received_on,
            applications=[
                ApplicationOut(invoice_id=a.invoice_id, amount_minor=a.amount_minor)
                for a in p.applications
            ],
            unapplied_minor=p.unapplied_minor,
            reversed=p.reversed,
            version=p.version,
        )


class FieldChange(BaseModel):
    """One field of the account's profile as it was and as it became."""

    field: str = Field(examples=["payment_terms_days"])
    before: Any = None
    after: Any = None

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"field": "payment_terms_days", "before": 30, "after": 45}]}
    )

    @classmethod
    def of(cls, name: str, before: Any, after: Any) -> FieldChange:
        return cls(field=name, before=_plain(before), after=_plain(after))


def _plain(value: Any) -> Any:
    """Contacts as JSON objects; every other profile field is JSON already."""
    if isinstance(value, tuple):
        return [c.model_dump(mode="json") if isinstance(c, BaseModel) else c for c in value]
    return value


_ACCOUNT_UPDATE_EXAMPLE: dict[str, Any] = {
    "event_id": "01934fa0-1b2c-7d3e-8f40-5a6b7c8d9e0f",
    "type": "billing.account.updated",
    "version": 4,
    "recorded_at": "2026-11-02T15:04:05Z",
    "actor": "ops-olga",
    "correlation_id": "c0ffee00-0000-4000-8000-000000000001",
    "causation_id": None,
    "data": {
        "account_id": "01934f9e-8d2a-7c4b-9b1e-3f6a2d5c7e10",
        "payment_terms_days": 45,
        "segment_cleared": False,
        "actor": "ops-olga",
    },
    "changes": [{"field": "payment_terms_days", "before": 30, "after": 45}],
}


class HistoryEntry(BaseModel):
    """One stored event: what changed (`data`, an update names only the fields it changed),
    when (`recorded_at`) and who (`actor`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ACCOUNT_UPDATE_EXAMPLE]})

    event_id: UUID
    type: str
    version: int
    recorded_at: datetime
    actor: str | None = Field(
        description=(
            "Who made the change: the token's subject, `stripe` for its webhooks, `cli:<user>` "
            "for a command-line import; null on events recorded before billing kept it"
        )
    )
    # null ones are left out of the document's examples (FastAPI drops nulls), so not required
    correlation_id: str | None = None
    causation_id: str | None = None
    data: dict[str, Any]
    changes: list[FieldChange] | None = Field(
        default=None,
        description=(
            "An account update's fields from what to what, in the account's history; null elsewhere"
        ),
    )

    @classmethod
    def of(cls, event: RecordedEvent, *, changes: list[FieldChange] | None = None) -> HistoryEntry:
        return cls(
            event_id=event.event_id,
            type=event.type,
            version=event.version,
            recorded_at=event.recorded_at,
            actor=event.data.get("actor"),
            correlation_id=event.correlation_id,
            causation_id=event.causation_id,
            data=event.data,
            changes=changes,
        )


class InvoiceHistory(BaseModel):
    """Every event of the invoice's stream, oldest first, with who made each."""

    invoice_id: UUID
    events: list[HistoryEntry]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "invoice_id": "0193a5b3-1d02-7b6c-8e41-5a9f3c2b7d02",
                    "events": [
                        {
                            "event_id": "01934fa0-1b2c-7d3e-8f40-5a6b7c8d9e10",
                            "type": "billing.invoice.issued",
                            "version": 1,
                            "recorded_at": "2026-10-01T08:00:00Z",
                            "actor": "erp-connector",
                            "correlation_id": None,
                            "causation_id": None,
                            "data": {
                                "invoice_number": "INV-2026-0042",
                                "amount_minor": 125000,
                                "currency": "EUR",
                                "due_date": "2026-10-31",
                            },
                            "changes": None,
                        }
                    ],
                }
            ]
        }
    )


class AccountHistory(BaseModel):
    """The account's own audit trail: registration, every profile edit, auto-pay changes."""

    account_id: UUID
    events: list[HistoryEntry]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account_id": "01934f9e-8d2a-7c4b-9b1e-3f6a2d5c7e10",
                    "events": [_ACCOUNT_UPDATE_EXAMPLE],
                }
            ]
        }
    )


class ApprovalResponse(BaseModel):
    """A credit or write-off over its threshold, and where it stands; ETag is `version`."""

    approval_id: UUID
    status: ApprovalStatus
    action: ApprovalAction
    account_id: UUID
    invoice_id: UUID
    amount_minor: int
    currency: str
    threshold_minor: int
    reason_code: str
    effective_date: date
    memo: str | None
    case_id: str | None
    correction_id: UUID | None
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    version: int

    @classmethod
    def of(cls, approval: Approval, version: int) -> ApprovalResponse:
        request = approval.request
        assert request is not None and approval.status is not None
        return cls(
            **request.model_dump(
                include={
                    "approval_id",
                    "action",
                    "account_id",
                    "invoice_id",
                    "amount_minor",
                    "currency",
                    "threshold_minor",
                    "reason_code",
                    "effective_date",
                    "memo",
                    "case_id",
                    "correction_id",
                    "requested_by",
                    "requested_at",
                }
            ),
            status=approval.status,
            decided_by=approval.decided_by,
            decided_at=approval.decided_at,
            reason=approval.reason,
            version=version,
        )


class ApprovalPage(Page[ApprovalResponse]):
    """Approvals in one status, the longest waiting first."""


class RejectApprovalRequest(Request):
    reason: str = Field(min_length=1, max_length=1000)


class PayLinkRequest(Request):
    purpose: PayLinkPurpose = Field(
        default=PayLinkPurpose.PAYMENT,
        description="`payment` pays open invoices; `autopay` enrols the account in auto-pay",
    )
    invoice_ids: list[UUID] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The invoices to pay (one currency); absent: every open invoice. "
        "Not for `autopay`",
    )


class PayLinkResponse(BaseModel):
    pay_link_id: UUID
    account_id: UUID
    purpose: PayLinkPurpose
    provider: str
    provider_reference: str
    url: str = Field(description="Where the customer pays (or saves a payment method)")
    expires_at: datetime
    invoice_ids: list[UUID] = Field(description="Paid by the link, oldest first")
    amount_minor: int = Field(
        description="What the invoices were open for when it was made; 0 for auto-pay"
    )
    currency: str

    @classmethod
    def of(cls, account_id: UUID, link: PayLink) -> PayLinkResponse:
        return cls(
            pay_link_id=link.pay_link_id,
            account_id=account_id,
            purpose=link.purpose,
            provider=link.provider,
            provider_reference=link.provider_reference,
            url=link.url,
            expires_at=link.expires_at,
            invoice_ids=list(link.invoice_ids),
            amount_minor=link.amount_minor,
            currency=link.currency,
        )
