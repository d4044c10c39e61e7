"""Stripe refunds and disputes: money that left again after it paid an invoice.

The payment is found by any id it answers to (its charge, its PaymentIntent;
see `stripe_context.also_known_as`), since from 2025-03-31.basil a charge no
longer names its invoice and the invoice no longer names its charge. One that
is not known yet is parked on its PaymentIntent, and given up after the
connector's `parked_ttl`: a charge that paid none of our invoices never
becomes known.
"""

from __future__ import annotations

from uuid import UUID

from billing_adapter.adapters.stripe_objects import charge_references, ref
from billing_adapter.domain.commands import AdjustInvoice, ReversePayment
from billing_adapter.service_layer.accounts import get_account
from billing_adapter.service_layer.stripe_context import Context, Ignored, payment
from receivables_platform.contracts.billing import AdjustmentKind, ReversalReason
from receivables_platform.ids import new_id


async def _reverse(
    ctx: Context, account_id: UUID, payment_id: UUID, reason: ReversalReason
) -> dict[UUID, int]:
    """Reverse the payment; what it had paid on each invoice (what the reversal reopens)."""
    paid = (await get_account(ctx.conn, account_id)).state.payments[payment_id]
    if paid.reversed:
        raise Ignored(f"payment {payment_id} is already reversed")
    await ctx.run(
        ReversePayment(
            account_id=account_id, payment_id=payment_id, reason=reason, reversed_on=ctx.event.day
        )
    )
    reopened: dict[UUID, int] = {}
    for application in paid.applications:
        reopened[application.invoice_id] = (
            reopened.get(application.invoice_id, 0) + application.amount_minor
        )
    return reopened


async def charge_refunded(ctx: Context) -> str:
    """A full refund returns the payment, and what it had paid is not owed again.

    Up to 2024-06-20 a charge names its invoice, so one that pays none is
    ignored at once; later versions do not say, so the refund waits for its
    payment like a dispute does. The merchant gave the money back on purpose:
    Stripe keeps the invoice `paid`, and nobody should chase it. So the
    reversal is followed by a credit of what it reopened (never more than is
    open, so a credit note that came first is not credited twice). A partial
    refund is left alone: a payment reverses whole or not at all here, and
    Stripe issues the credit note that changes what is owed.
    """
    charge = ctx.event.object
    if not ctx.event.invoice_payments_separate and charge.get("invoice") is None:
        raise Ignored(f"charge {charge['id']} pays no invoice")
    account_id, payment_id = await payment(ctx, charge_references(charge, "id"), "charge")
    if not charge.get("refunded"):
        raise Ignored(
            f"partial refund ({charge.get('amount_refunded')} of "
            f"{charge.get('amount')}): the payment stands"
        )
    reopened = await _reverse(ctx, account_id, payment_id, ReversalReason.RETURNED)
    await _refunded(ctx, account_id, reopened, sum(reopened.values()), str(charge["id"]))
    return f"payment {payment_id}"


async def _refunded(
    ctx: Context, account_id: UUID, reopened: dict[UUID, int], amount: int, charge_id: str
) -> None:
    """Credit up to `amount` of what a reversal reopened: money the merchant gave back.

    Never more than an invoice has open, so a credit note that came first is
    not credited twice.
    """
    state = (await get_account(ctx.conn, account_id)).state
    for invoice_id, paid in reopened.items():
        invoice = state.invoices[invoice_id]
        credit = min(paid, invoice.open_minor, amount)
        if credit > 0 and not invoice.voided:
            await ctx.run(
                AdjustInvoice(
                    account_id=account_id,
                    invoice_id=invoice.invoice_id,
                    adjustment_id=new_id(),
                    kind=AdjustmentKind.CREDIT,
                    amount_minor=credit,
                    reason_code="refunded",
                    effective_date=ctx.event.day,
                    currency=invoice.currency,
                    memo=f"refunded in Stripe ({charge_id})",
                )
            )
            amount -= credit


async def dispute_created(ctx: Context) -> str:
    """The bank took the money back: a chargeback reverses the payment, and that is owed again.

    Only what the dispute took: a dispute covers what was not refunded
    already, and a partial refund (which leaves the payment standing here)
    was money the merchant gave back on purpose, so what the reversal reopens
    beyond the disputed amount is credited as refunded.
    """
    dispute = ctx.event.object
    account_id, payment_id = await payment(ctx, charge_references(dispute, "charge"), "dispute")
    reopened = await _reverse(ctx, account_id, payment_id, ReversalReason.CHARGEBACK)
    disputed = dispute.get("amount")
    beyond = sum(reopened.values()) - (disputed if isinstance(disputed, int) else 0)
    if isinstance(disputed, int) and beyond > 0:
        await _refunded(ctx, account_id, reopened, beyond, ref(dispute.get("charge")) or "")
    return f"payment {payment_id}"
