"""Stripe API objects and events as Stripe sends them, in both generations of shapes, and signing.

API version 2024-06-20 is written out below. The current versions
(2025-03-31.basil and later, `basil_*`) are built from Stripe's own published
fixtures, a trimmed copy of which is kept under `tests/stripe_fixtures/`.

Every field of the published object is present, with Stripe's types and
nulls, so the connector is tested against what Stripe really sends rather
than against the few fields it reads. Builders take what a test varies. In
the package (like `testing.py`) so the tests, and a developer pointing a
signed sample at `make run`, build the same payloads.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import uuid4

API_VERSION = "2024-06-20"
NOW = int(time.time())


def stripe_id(prefix: str) -> str:
    return f"{prefix}_{uuid4().hex[:24]}"


def sign(payload: bytes, *secrets: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header as Stripe builds it: one v1 per secret."""
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + payload
    v1 = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets]
    return ",".join([f"t={t}", *(f"v1={v}" for v in v1)])


def event(
    type_: str,
    obj: dict[str, Any],
    *,
    created: int | None = None,
    previous_attributes: dict[str, Any] | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": event_id or stripe_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": NOW if created is None else created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": stripe_id("req"), "idempotency_key": str(uuid4())},
        "type": type_,
    }


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def customer(
    customer_id: str,
    *,
    name: str | None = "Acme Corp",
    email: str | None = "billing@acme.test",
    phone: str | None = "+1 555 0100",
    currency: str | None = "usd",
    default_payment_method: Any = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "id": customer_id,
        "object": "customer",
        "address": {
            "city": "Springfield",
            "country": "US",
            "line1": "1 Main St",
            "line2": None,
            "postal_code": "12345",
            "state": "IL",
        },
        "balance": 0,
        "created": NOW - 3600,
        "currency": currency,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": email,
        "invoice_prefix": "ACME1",
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": default_payment_method,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": metadata or {},
        "name": name,
        "next_invoice_sequence": 1,
        "phone": phone,
        "preferred_locales": ["en"],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def line_item(
    invoice_id: str, *, amount: int, quantity: int, description: str, tax: int = 0
) -> dict[str, Any]:
    price_id = stripe_id("price")
    return {
        "id": stripe_id("il"),
        "object": "line_item",
        "amount": amount,
        "amount_excluding_tax": amount,
        "currency": "usd",
        "description": description,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": invoice_id,
        "invoice_item": stripe_id("ii"),
        "livemode": False,
        "metadata": {},
        "period": {"end": NOW, "start": NOW},
        "plan": None,
        "price": {
            "id": price_id,
            "object": "price",
            "active": True,
            "billing_scheme": "per_unit",
            "created": NOW - 86400,
            "currency": "usd",
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": None,
            "metadata": {},
            "nickname": None,
            "product": stripe_id("prod"),
            "recurring": None,
            "tax_behavior": "exclusive",
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "one_time",
            "unit_amount": amount // quantity,
            "unit_amount_decimal": str(amount // quantity),
        },
        "proration": False,
        "proration_details": {"credited_items": None},
        "quantity": quantity,
        "subscription": None,
        "subscription_item": None,
        "tax_amounts": [
            {
                "amount": tax,
                "inclusive": False,
                "tax_rate": stripe_id("txr"),
                "taxability_reason": None,
                "taxable_amount": amount,
            }
        ]
        if tax
        else [],
        "tax_rates": [],
        "type": "invoiceitem",
        "unit_amount_excluding_tax": str(amount // quantity),
    }


def invoice(
    invoice_id: str,
    customer_id: str,
    *,
    lines: list[tuple[str, int, int]] | None = None,
    tax: int = 1_000,
    status: str = "open",
    collection_method: str = "send_invoice",
    finalized_at: int | None = None,
    due_date: int | None = None,
    charge: str | None = None,
    payment_intent: str | None = None,
    paid_at: int | None = None,
    voided_at: int | None = None,
    marked_uncollectible_at: int | None = None,
    attempt_count: int = 0,
    discount: int = 0,
    currency: str = "usd",
) -> dict[str, Any]:
    """`lines` as (description, quantity, amount); the total is their sum + tax - discount."""
    lines = [("Seats", 4, 10_000)] if lines is None else lines
    items = [line_item(invoice_id, amount=a, quantity=q, description=d) for d, q, a in lines]
    subtotal = sum(a for _, _, a in lines)
    total = subtotal - discount + tax
    paid = status == "paid"
    finalized = NOW - 86400 if finalized_at is None else finalized_at
    return {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Receivables Demo Inc.",
        "account_tax_ids": None,
        "amount_due": total,
        "amount_paid": total if paid else 0,
        "amount_remaining": 0 if paid else total,
        "amount_shipping": 0,
        "application": None,
        "application_fee_amount": None,
        "attempt_count": attempt_count,
        "attempted": attempt_count > 0,
        "auto_advance": not paid,
        "automatic_tax": {"enabled": False, "liability": None, "status": None},
        "automatically_finalizes_at": None,
        "billing_reason": "manual",
        "charge": charge,
        "collection_method": collection_method,
        "created": finalized - 600,
        "currency": currency,
        "custom_fields": None,
        "customer": customer_id,
        "customer_address": None,
        "customer_email": "billing@acme.test",
        "customer_name": "Acme Corp",
        "customer_phone": None,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discount": None,
        "discounts": [],
        "due_date": due_date
        if due_date is not None or collection_method != "send_invoice"
        else finalized + 30 * 86400,
        "effective_at": finalized,
        "ending_balance": 0 if status != "draft" else None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_test/{invoice_id}",
        "invoice_pdf": f"https://pay.stripe.com/invoice/acct_test/{invoice_id}/pdf",
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": {
            "object": "list",
            "data": items,
            "has_more": False,
            "total_count": len(items),
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": f"ACME1-{invoice_id[-4:].upper()}",
        "on_behalf_of": None,
        "paid": paid,
        "paid_out_of_band": False,
        "payment_intent": payment_intent,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": finalized,
        "period_start": finalized,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "quote": None,
        "receipt_number": None,
        "rendering": None,
        "rendering_options": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": status,
        "status_transitions": {
            "finalized_at": finalized,
            "marked_uncollectible_at": marked_uncollectible_at,
            "paid_at": paid_at if paid_at is not None or not paid else NOW,
            "voided_at": voided_at,
        },
        "subscription": None,
        "subscription_details": {"metadata": None},
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal,
        "tax": tax or None,
        "test_clock": None,
        "total": total,
        "total_discount_amounts": [{"amount": discount, "discount": stripe_id("di")}]
        if discount
        else [],
        "total_excluding_tax": total - tax,
        "total_tax_amounts": [
            {
                "amount": tax,
                "inclusive": False,
                "tax_rate": stripe_id("txr"),
                "taxability_reason": None,
                "taxable_amount": subtotal - discount,
            }
        ]
        if tax
        else [],
        "transfer_data": None,
        "webhooks_delivered_at": NOW,
    }


def credit_note(
    invoice_id: str,
    customer_id: str,
    *,
    amount: int,
    type_: str = "pre_payment",
    reason: str | None = "product_unsatisfactory",
    memo: str | None = "Two seats unused",
) -> dict[str, Any]:
    note_id = stripe_id("cn")
    return {
        "id": note_id,
        "object": "credit_note",
        "amount": amount,
        "amount_shipping": 0,
        "created": NOW,
        "currency": "usd",
        "customer": customer_id,
        "customer_balance_transaction": None,
        "discount_amount": 0,
        "discount_amounts": [],
        "effective_at": NOW,
        "invoice": invoice_id,
        "lines": {
            "object": "list",
            "data": [
                {
                    "id": stripe_id("cnli"),
                    "object": "credit_note_line_item",
                    "amount": amount,
                    "amount_excluding_tax": amount,
                    "description": "Seats",
                    "discount_amount": 0,
                    "discount_amounts": [],
                    "invoice_line_item": stripe_id("il"),
                    "livemode": False,
                    "quantity": 1,
                    "tax_amounts": [],
                    "tax_rates": [],
                    "type": "invoice_line_item",
                    "unit_amount": amount,
                    "unit_amount_decimal": str(amount),
                    "unit_amount_excluding_tax": str(amount),
                }
            ],
            "has_more": False,
            "url": f"/v1/credit_notes/{note_id}/lines",
        },
        "livemode": False,
        "memo": memo,
        "metadata": {},
        "number": f"ACME1-CN-{note_id[-4:]}",
        "out_of_band_amount": None,
        "pdf": f"https://pay.stripe.com/credit_notes/{note_id}/pdf",
        "reason": reason,
        "refund": stripe_id("re") if type_ == "post_payment" else None,
        "shipping_cost": None,
        "status": "issued",
        "subtotal": amount,
        "subtotal_excluding_tax": amount,
        "tax_amounts": [],
        "total": amount,
        "total_excluding_tax": amount,
        "type": type_,
        "voided_at": None,
    }


def charge(
    charge_id: str,
    customer_id: str,
    *,
    amount: int,
    invoice_id: str | None,
    payment_intent: str | None = None,
    amount_refunded: int = 0,
) -> dict[str, Any]:
    refunded = amount_refunded == amount
    refunds = (
        [
            {
                "id": stripe_id("re"),
                "object": "refund",
                "amount": amount_refunded,
                "balance_transaction": stripe_id("txn"),
                "charge": charge_id,
                "created": NOW,
                "currency": "usd",
                "destination_details": {
                    "card": {
                        "reference_status": "pending",
                        "reference_type": "acquirer_reference_number",
                        "type": "refund",
                    },
                    "type": "card",
                },
                "metadata": {},
                "payment_intent": payment_intent,
                "reason": "requested_by_customer",
                "receipt_number": None,
                "source_transfer_reversal": None,
                "status": "succeeded",
                "transfer_reversal": None,
            }
        ]
        if amount_refunded
        else []
    )
    return {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": amount_refunded,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": stripe_id("txn"),
        "billing_details": {
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": "12345",
                "state": None,
            },
            "email": None,
            "name": None,
            "phone": None,
        },
        "calculated_statement_descriptor": "RECEIVABLES DEMO",
        "captured": True,
        "created": NOW - 3600,
        "currency": "usd",
        "customer": customer_id,
        "description": None,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "invoice": invoice_id,
        "livemode": False,
        "metadata": {},
        "on_behalf_of": None,
        "outcome": {
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": True,
        "payment_intent": payment_intent,
        "payment_method": stripe_id("pm"),
        "payment_method_details": {
            "card": {
                "amount_authorization": None,
                "brand": "visa",
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": "pass",
                    "cvc_check": "pass",
                },
                "country": "US",
                "exp_month": 8,
                "exp_year": 2030,
                "extended_authorization": None,
                "fingerprint": "Xt5EWLLDS7FJjR1c",
                "funding": "credit",
                "incremental_authorization": None,
                "installments": None,
                "last4": "4242",
                "mandate": None,
                "multicapture": None,
                "network": "visa",
                "network_token": {"used": False},
                "overcapture": None,
                "three_d_secure": None,
                "wallet": None,
            },
            "type": "card",
        },
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/{charge_id}",
        "refunded": refunded,
        "refunds": {
            "object": "list",
            "data": refunds,
            "has_more": False,
            "total_count": len(refunds),
            "url": f"/v1/charges/{charge_id}/refunds",
        },
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }


def dispute(charge_id: str, *, amount: int, payment_intent: str | None = None) -> dict[str, Any]:
    return {
        "id": stripe_id("dp"),
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [],
        "charge": charge_id,
        "created": NOW,
        "currency": "usd",
        "evidence": {
            key: None
            for key in (
                "access_activity_log",
                "billing_address",
                "cancellation_policy",
                "cancellation_policy_disclosure",
                "cancellation_rebuttal",
                "customer_communication",
                "customer_email_address",
                "customer_name",
                "customer_purchase_ip",
                "customer_signature",
                "duplicate_charge_documentation",
                "duplicate_charge_explanation",
                "duplicate_charge_id",
                "product_description",
                "receipt",
                "refund_policy",
                "refund_policy_disclosure",
                "refund_refusal_explanation",
                "service_date",
                "service_documentation",
                "shipping_address",
                "shipping_carrier",
                "shipping_date",
                "shipping_documentation",
                "shipping_tracking_number",
                "uncategorized_file",
                "uncategorized_text",
            )
        },
        "evidence_details": {
            "due_by": NOW + 7 * 86400,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": payment_intent,
        "payment_method_details": {
            "card": {"brand": "visa", "network_reason_code": "10.4"},
            "type": "card",
        },
        "reason": "fraudulent",
        "status": "needs_response",
    }


def subscription(
    customer_id: str, *, collection_method: str, default_payment_method: str | None = None
) -> dict[str, Any]:
    sub_id = stripe_id("sub")
    return {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"enabled": False, "liability": None},
        "billing_cycle_anchor": NOW,
        "billing_cycle_anchor_config": None,
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": collection_method,
        "created": NOW,
        "currency": "usd",
        "current_period_end": NOW + 30 * 86400,
        "current_period_start": NOW,
        "customer": customer_id,
        "days_until_due": 30 if collection_method == "send_invoice" else None,
        "default_payment_method": default_payment_method,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discount": None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": {
            "object": "list",
            "data": [],
            "has_more": False,
            "total_count": 0,
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": stripe_id("in"),
        "livemode": False,
        "metadata": {},
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "plan": None,
        "quantity": 1,
        "schedule": None,
        "start_date": NOW,
        "status": "active",
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }


# -- current API versions (2025-03-31.basil and later), from Stripe's published fixtures ---------

BASIL_API_VERSION = "2025-03-31.basil"
FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "stripe_fixtures" / "fixtures3.json"
"""Trimmed from stripe/openapi's `openapi/fixtures3.json` (the commit is in its `_source`)."""


@lru_cache(maxsize=1)
def _published() -> dict[str, Any]:
    return dict(json.loads(FIXTURES.read_text()))


def published(name: str, **fields: Any) -> dict[str, Any]:
    """A fresh copy of Stripe's published `name` object with `fields` replaced."""
    obj = copy.deepcopy(_published()[name])
    obj.update(fields)
    return dict(obj)


def basil_event(
    type_: str,
    obj: dict[str, Any],
    *,
    created: int | None = None,
    api_version: str = BASIL_API_VERSION,
) -> dict[str, Any]:
    return published(
        "event",
        id=stripe_id("evt"),
        type=type_,
        api_version=api_version,
        created=NOW if created is None else created,
        data={"object": obj},
    )


def basil_invoice(
    invoice_id: str,
    customer_id: str,
    *,
    amount: int = 11_000,
    status: str = "open",
    finalized_at: int | None = None,
    due_date: int | None = None,
    starting_balance: int = 0,
    amount_paid: int | None = None,
    paid_at: int | None = None,
    marked_uncollectible_at: int | None = None,
) -> dict[str, Any]:
    """One line of `amount`, no tax; the customer's balance applied as Stripe applies it.

    `starting_balance` negative is credit the customer holds, positive a debit
    they owe: `ending_balance` is what is left of it after this invoice.
    """
    finalized = NOW - 86400 if finalized_at is None else finalized_at
    applied = max(starting_balance, -amount)  # credit used, or debit carried whole
    due = amount + applied
    paid = (due if status == "paid" else 0) if amount_paid is None else amount_paid
    fixture = _published()["invoice"]
    line = copy.deepcopy(fixture["lines"]["data"][0])
    line.update(
        id=stripe_id("il"),
        invoice=invoice_id,
        amount=amount,
        subtotal=amount,
        description="Seats",
        quantity=1,
    )
    return published(
        "invoice",
        id=invoice_id,
        customer=customer_id,
        status=status,
        total=amount,
        subtotal=amount,
        subtotal_excluding_tax=amount,
        total_excluding_tax=amount,
        amount_due=due,
        amount_paid=paid,
        amount_remaining=due - paid,
        amount_overpaid=0,
        starting_balance=starting_balance,
        ending_balance=starting_balance - applied,
        collection_method="send_invoice",
        created=finalized - 600,
        effective_at=finalized,
        due_date=finalized + 30 * 86400 if due_date is None else due_date,
        number=f"BASIL-{invoice_id[-4:].upper()}",
        last_finalization_error=None,
        from_invoice=None,
        parent=None,
        next_payment_attempt=None,
        shipping_cost=None,
        lines={**fixture["lines"], "data": [line], "url": f"/v1/invoices/{invoice_id}/lines"},
        status_transitions={
            "finalized_at": finalized,
            "paid_at": paid_at or (NOW if status == "paid" else None),
            "voided_at": None,
            "marked_uncollectible_at": marked_uncollectible_at,
        },
    )


def basil_invoice_payment(
    invoice_id: str,
    *,
    amount: int,
    payment_intent: str | None = None,
    charge: str | None = None,
    paid_at: int | None = None,
) -> dict[str, Any]:
    payment = (
        {"type": "payment_intent", "payment_intent": payment_intent}
        if payment_intent
        else {"type": "charge", "charge": charge}
    )
    return published(
        "invoice_payment",
        id=stripe_id("inpay"),
        invoice=invoice_id,
        amount_paid=amount,
        amount_requested=amount,
        currency="usd",
        livemode=False,
        payment=payment,
        status="paid",
        status_transitions={"canceled_at": None, "paid_at": paid_at or NOW},
    )


def basil_charge(
    charge_id: str,
    customer_id: str,
    *,
    amount: int,
    payment_intent: str | None,
    amount_refunded: int = 0,
) -> dict[str, Any]:
    """A charge as basil sends it: no `invoice` field at all."""
    refunds = (
        [
            published(
                "refund",
                id=stripe_id("re"),
                amount=amount_refunded,
                charge=charge_id,
                payment_intent=payment_intent,
                reason="requested_by_customer",
            )
        ]
        if amount_refunded
        else []
    )
    fixture = _published()["charge"]
    return published(
        "charge",
        id=charge_id,
        customer=customer_id,
        amount=amount,
        amount_captured=amount,
        captured=True,
        amount_refunded=amount_refunded,
        refunded=amount_refunded == amount,
        payment_intent=payment_intent,
        refunds={
            **fixture["refunds"],
            "data": refunds,
            "total_count": len(refunds),
            "url": f"/v1/charges/{charge_id}/refunds",
        },
    )


def basil_dispute(charge_id: str, *, amount: int, payment_intent: str | None) -> dict[str, Any]:
    return published(
        "dispute",
        id=stripe_id("dp"),
        charge=charge_id,
        amount=amount,
        payment_intent=payment_intent,
        status="needs_response",
    )


def basil_credit_note(
    invoice_id: str,
    customer_id: str,
    *,
    pre_payment: int,
    post_payment: int = 0,
    voided_at: int | None = None,
) -> dict[str, Any]:
    """Basil splits a note into the part before payment and the part after it."""
    amount = pre_payment + post_payment
    return published(
        "credit_note",
        id=stripe_id("cn"),
        invoice=invoice_id,
        customer=customer_id,
        amount=amount,
        subtotal=amount,
        total=amount,
        subtotal_excluding_tax=amount,
        total_excluding_tax=amount,
        pre_payment_amount=pre_payment,
        post_payment_amount=post_payment,
        type="post_payment" if post_payment and not pre_payment else "pre_payment",
        status="void" if voided_at else "issued",
        voided_at=voided_at,
        refunds=[],
        shipping_cost=None,
        effective_at=NOW,
        created=NOW,
    )


def checkout_session_completed(
    session: dict[str, Any],
    link: dict[str, Any],
    *,
    amount_total: int | None = None,
    payment_status: str = "paid",
    event_type: str = "checkout.session.completed",
) -> dict[str, Any]:
    """The event Stripe sends when the customer finishes the Checkout Session of pay `link`.

    `session` is the session as Stripe's API shows it (stripe-mock's answer in
    tests, which invents what it is not told); the event carries it completed
    as it was made for the link: its mode, currency and reference, `status`
    complete, paid (or not yet, for a bank debit) for the amount asked unless
    `amount_total` says otherwise, and for a setup session the SetupIntent that
    saved the method.
    """
    setup = link["purpose"] == "autopay"
    completed = {
        **session,
        "id": link["provider_reference"],
        "status": "complete",
        "mode": "setup" if setup else "payment",
        "client_reference_id": link["pay_link_id"],
        "metadata": {"pay_link_id": link["pay_link_id"], "account_id": link["account_id"]},
        "currency": str(link["currency"]).lower(),
    }
    if setup:
        completed.update(
            payment_status="no_payment_required",
            amount_total=None,
            amount_subtotal=None,
            payment_intent=None,
            setup_intent=ref_or_new(session.get("setup_intent"), "seti"),
        )
    else:
        amount = link["amount_minor"] if amount_total is None else amount_total
        completed.update(
            payment_status=payment_status,
            amount_total=amount,
            amount_subtotal=amount,
            payment_intent=ref_or_new(session.get("payment_intent"), "pi"),
        )
    return event(event_type, completed)


def ref_or_new(value: Any, prefix: str) -> str:
    """The id `value` names, or a new one where the mock left it empty (without a run of
    digits, which the auto-pay guard would take for an account number)."""
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, str) and value:
        return value
    return f"{prefix}_{uuid4().hex[:24].translate(str.maketrans('0123456789', 'ghijklmnop'))}"
