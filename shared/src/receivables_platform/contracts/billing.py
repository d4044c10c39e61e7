"""Events billing-adapter publishes on `billing.events.v1`, keyed (and subjected) by account id.

Every event names its `account_id`, so a consumer can route it without the
envelope. Money is integer minor units with the currency beside it; business
dates are dates. Amounts that the type name already signs (a credit memo, a
write-off, a reversal) are positive; the `kind` says the direction.

`billing.invoice.issued` v1 carried only a total; v2 adds the lines, tax and
instalments. v1 payloads are upcast to one line and one instalment of the
total, so stored first-slice events read as v2 (field names unchanged).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import ConfigDict, Field, model_validator

from receivables_platform.contracts.base import EventContract, Part, contract_for, upcaster
from receivables_platform.contracts.topics import context_of
from receivables_platform.money import CurrencyCode

TOPIC = context_of("billing.").topic

ExternalId = Annotated[str, Field(min_length=1, max_length=200)]
PositiveMinor = Annotated[int, Field(gt=0)]
NonNegativeMinor = Annotated[int, Field(ge=0)]
ReasonCode = Annotated[str, Field(min_length=1, max_length=64)]
Actor = Annotated[str | None, Field(default=None, min_length=1, max_length=200)]


# -- accounts -------------------------------------------------------------------------------------


class Contact(Part):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    role: str | None = Field(
        default=None,
        max_length=40,
        description=(
            "What the contact is to the customer's billing, e.g. billing or billing_cc: dunning "
            "emails go to and copy contacts by role"
        ),
    )


@contract_for("billing.account.registered", 1, aggregate="account")
class AccountRegistered(EventContract):
    account_id: UUID
    external_id: ExternalId
    name: str = Field(min_length=1, max_length=200)
    contacts: list[Contact]
    payment_terms_days: int = Field(ge=0, le=365)
    segment: str | None = Field(default=None, max_length=64)
    currency: CurrencyCode
    actor: Actor = None
    """Who did it (see `InvoiceAdjusted.actor`); None on events recorded before billing kept it."""


@contract_for("billing.account.updated", 1, aggregate="account")
class AccountUpdated(EventContract):
    """Only the fields that changed are present; an absent field kept its value."""

    account_id: UUID
    name: str | None = Field(default=None, min_length=1, max_length=200)
    contacts: list[Contact] | None = None
    payment_terms_days: int | None = Field(default=None, ge=0, le=365)
    segment: str | None = Field(default=None, max_length=64)
    segment_cleared: bool = False
    actor: Actor = None
    """Who did it (see `InvoiceAdjusted.actor`); None on events recorded before billing kept it."""


@contract_for("billing.autopay.enrolled", 1, aggregate="autopay")
class AutoPayEnrolled(EventContract):
    """The payment method is a reference into the billing system (a token), never the number."""

    account_id: UUID
    payment_method_reference: str = Field(min_length=1, max_length=200)
    payment_method_type: str = Field(min_length=1, max_length=32)
    enrolled_on: date
    actor: Actor = None
    """Who did it (see `InvoiceAdjusted.actor`); None on events recorded before billing kept it."""


@contract_for("billing.autopay.cancelled", 1, aggregate="autopay")
class AutoPayCancelled(EventContract):
    account_id: UUID
    reason: str | None = Field(default=None, max_length=200)
    cancelled_on: date
    actor: Actor = None
    """Who did it (see `InvoiceAdjusted.actor`); None on events recorded before billing kept it."""


class PayLinkPurpose(StrEnum):
    PAYMENT = "payment"
    """Pays the invoices it names, at the amount they were open for when it was made."""
    AUTOPAY = "autopay"
    """Enrols the account in auto-pay: the customer saves a payment method, pays nothing."""


@contract_for("billing.paylink.created", 1, aggregate="paylink")
class PayLinkCreated(EventContract):
    """A link the customer can pay (or enrol in auto-pay) through, made at the payment provider.

    `provider_reference` is the provider's id of it (a Stripe Checkout Session's
    `cs_...`); a payment made through it comes back by that id. An auto-pay
    link names no invoices and no amount.
    """

    account_id: UUID
    pay_link_id: UUID
    purpose: PayLinkPurpose
    provider: str = Field(min_length=1, max_length=32)
    provider_reference: ExternalId
    url: str = Field(min_length=1, max_length=2000)
    expires_at: datetime
    invoice_ids: list[UUID]
    amount_minor: NonNegativeMinor
    currency: CurrencyCode
    actor: Actor = None
    """Who did it (see `InvoiceAdjusted.actor`); None on events recorded before billing kept it."""


# -- invoices -------------------------------------------------------------------------------------


class InvoiceLine(Part):
    description: str = Field(min_length=1, max_length=500)
    quantity: PositiveMinor
    unit_price_minor: NonNegativeMinor
    amount_minor: NonNegativeMinor


class Instalment(Part):
    due_date: date
    amount_minor: PositiveMinor


@contract_for("billing.invoice.issued", 1, aggregate="invoice")
class InvoiceIssuedV1(EventContract):
    # The first slice's invoice, a total only; read as v2 through the upcaster below. No
    # docstring: it would become the schema's description and change the published v1.
    model_config = ConfigDict(title="InvoiceIssued")

    invoice_id: UUID
    account_id: UUID
    external_id: str = Field(min_length=1, max_length=200)
    currency: CurrencyCode
    total_minor: int = Field(gt=0)
    issue_date: date
    due_date: date


@contract_for("billing.invoice.issued", 2, aggregate="invoice")
class InvoiceIssued(EventContract):
    """total = subtotal (the lines) + tax = the instalments; due_date is the last instalment's."""

    invoice_id: UUID
    account_id: UUID
    external_id: ExternalId
    currency: CurrencyCode
    total_minor: PositiveMinor
    issue_date: date
    due_date: date
    lines: list[InvoiceLine] = Field(min_length=1)
    subtotal_minor: NonNegativeMinor
    tax_minor: NonNegativeMinor
    instalments: list[Instalment] = Field(min_length=1)
    actor: Actor = None
    """Who did it (see `InvoiceAdjusted.actor`); None on events recorded before billing kept it."""

    @model_validator(mode="before")
    @classmethod
    def _a_total_only_is_one_line(cls, data: Any) -> Any:
        """Built from a total alone (as v1 code does): one line, one instalment."""
        if isinstance(data, dict) and "lines" not in data and "total_minor" in data:
            return _invoice_issued_v1_to_v2(data)
        return data


@upcaster("billing.invoice.issued", 1)
def _invoice_issued_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """A v1 invoice was one undivided amount: one line, no tax, one instalment on its due date."""
    total = payload["total_minor"]
    return {
        **payload,
        "lines": [
            {
                "description": "Invoice total",
                "quantity": 1,
                "unit_price_minor": total,
                "amount_minor": total,
            }
        ],
        "subtotal_minor": total,
        "tax_minor": 0,
        "instalments": [{"due_date": payload["due_date"], "amount_minor": total}],
    }


class AdjustmentKind(StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"


@contract_for("billing.invoice.adjusted", 1, aggregate="invoice")
class InvoiceAdjusted(EventContract):
    """A credit memo lowers the open balance, a debit raises it; `case_id` when a case asked."""

    invoice_id: UUID
    account_id: UUID
    adjustment_id: UUID
    kind: AdjustmentKind
    amount_minor: PositiveMinor
    currency: CurrencyCode
    reason_code: ReasonCode
    case_id: str | None = Field(default=None, max_length=64)
    memo: str | None = Field(default=None, max_length=1000)
    effective_date: date
    actor: Actor = None
    """Who did it: the token's subject (a user or an integration), `stripe` for its webhooks;
    None on events recorded before billing kept it."""
    approved_by: Actor = None
    """The supervisor who approved it when it was over the approval threshold."""


@contract_for("billing.invoice.voided", 1, aggregate="invoice")
class InvoiceVoided(EventContract):
    """The invoice never should have been: its whole balance goes, which needs no money applied."""

    invoice_id: UUID
    account_id: UUID
    voided_amount_minor: NonNegativeMinor
    currency: CurrencyCode
    reason: str | None = Field(default=None, max_length=200)
    voided_on: date
    actor: Actor = None
    """Who did it: the token's subject (a user or an integration), `stripe` for its webhooks;
    None on events recorded before billing kept it."""


@contract_for("billing.invoice.written_off", 1, aggregate="invoice")
class InvoiceWrittenOff(EventContract):
    """The remaining open balance is given up as uncollectible."""

    invoice_id: UUID
    account_id: UUID
    amount_minor: PositiveMinor
    currency: CurrencyCode
    reason_code: ReasonCode
    written_off_on: date
    actor: Actor = None
    """Who did it: the token's subject (a user or an integration), `stripe` for its webhooks;
    None on events recorded before billing kept it."""
    approved_by: Actor = None
    """The supervisor who approved it when it was over the approval threshold."""


# -- payments -------------------------------------------------------------------------------------


class PaymentMethod(StrEnum):
    CARD = "card"
    ACH = "ach"
    WIRE = "wire"
    CHECK = "check"
    CASH = "cash"
    DIRECT_DEBIT = "direct_debit"
    OTHER = "other"


class ReversalReason(StrEnum):
    RETURNED = "returned"
    CHARGEBACK = "chargeback"


@contract_for("billing.payment.received", 1, aggregate="payment")
class PaymentReceived(EventContract):
    """Money in; until applied it is the account's credit."""

    payment_id: UUID
    account_id: UUID
    external_id: ExternalId
    amount_minor: PositiveMinor
    currency: CurrencyCode
    method: PaymentMethod
    reference: str | None = Field(default=None, max_length=200)
    received_on: date
    actor: Actor = None
    """Who did it (see `InvoiceAdjusted.actor`); None on events recorded before billing kept it."""


@contract_for("billing.payment.applied", 1, aggregate="payment")
class PaymentApplied(EventContract):
    """One payment applied to one invoice; `remaining_minor` is what the invoice still owes."""

    payment_id: UUID
    account_id: UUID
    invoice_id: UUID
    amount_minor: PositiveMinor
    currency: CurrencyCode
    remaining_minor: NonNegativeMinor
    applied_on: date
    actor: Actor = None
    """Who did it (see `InvoiceAdjusted.actor`); None on events recorded before billing kept it."""


class Reopened(Part):
    invoice_id: UUID
    amount_minor: PositiveMinor


@contract_for("billing.payment.reversed", 1, aggregate="payment")
class PaymentReversed(EventContract):
    """The money came back out (returned, charged back): what it paid is owed again.

    `reopened` lists the invoices whose balances rise by what this payment had
    paid on them; `unapplied_minor` is the account credit that disappears.
    """

    payment_id: UUID
    account_id: UUID
    amount_minor: PositiveMinor
    currency: CurrencyCode
    reason: ReversalReason
    reopened: list[Reopened]
    unapplied_minor: NonNegativeMinor
    reversed_on: date
    actor: Actor = None
    """Who did it (see `InvoiceAdjusted.actor`); None on events recorded before billing kept it."""


# -- corrections requested by cases ---------------------------------------------------------------


@contract_for("billing.correction.rejected", 1, aggregate="correction")
class CorrectionRejected(EventContract):
    """A case's correction request that billing did not apply, and why (caused by the request)."""

    account_id: UUID
    case_id: str = Field(min_length=1, max_length=64)
    correction_id: str = Field(min_length=1, max_length=200)
    invoice_id: UUID | None = None
    reason_code: ReasonCode
    detail: str = Field(min_length=1, max_length=1000)
    actor: Actor = None
    """Who did it (see `InvoiceAdjusted.actor`); None on events recorded before billing kept it."""


# -- approvals (four eyes over large credits and write-offs) ---------------------------------------


class ApprovalAction(StrEnum):
    CREDIT = "credit"
    WRITE_OFF = "write_off"


@contract_for("billing.approval.requested", 1, aggregate="approval")
class ApprovalRequested(EventContract):
    """A credit or write-off over the currency's threshold waits for a supervisor.

    Carries everything needed to apply it once approved, so the decision is made on
    exactly what was asked; notifications for "a credit awaiting approval" key on it.
    """

    approval_id: UUID
    account_id: UUID
    invoice_id: UUID
    action: ApprovalAction
    amount_minor: PositiveMinor
    currency: CurrencyCode
    threshold_minor: NonNegativeMinor
    reason_code: ReasonCode
    effective_date: date
    memo: str | None = Field(default=None, max_length=1000)
    case_id: str | None = Field(default=None, max_length=64)
    correction_id: UUID | None = None
    """Set when a case's correction request asked for the credit (then also its id)."""
    requested_by: str = Field(min_length=1, max_length=200)
    requested_at: datetime


@contract_for("billing.approval.granted", 1, aggregate="approval")
class ApprovalGranted(EventContract):
    """A second person approved; the credit or write-off is applied in the same transaction."""

    approval_id: UUID
    account_id: UUID
    invoice_id: UUID
    action: ApprovalAction
    approved_by: str = Field(min_length=1, max_length=200)
    approved_at: datetime


@contract_for("billing.approval.rejected", 1, aggregate="approval")
class ApprovalRejected(EventContract):
    """A supervisor turned it down; nothing is applied (a case's request hears why)."""

    approval_id: UUID
    account_id: UUID
    invoice_id: UUID
    action: ApprovalAction
    rejected_by: str = Field(min_length=1, max_length=200)
    rejected_at: datetime
    reason: str = Field(min_length=1, max_length=1000)
