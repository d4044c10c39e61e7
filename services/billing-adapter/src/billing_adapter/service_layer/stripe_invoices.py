"""Stripe invoices and their payments as invoices, adjustments, payments and write-offs.

Invoice events carry the whole invoice, so each one first makes sure the
invoice is issued (idempotent on its `in_...` id) and then applies its own
change: `invoice.paid` before `invoice.finalized` issues and pays; the late
`invoice.finalized` finds it issued and changes nothing.

The customer's Stripe balance is settled into the invoice when it is issued
(`stripe_objects.balance_carried`): credit the customer held lowers what the
invoice asks (a credit adjustment), a debit carried from before raises it (a
debit adjustment), so `amount_paid` then settles exactly what is owed and no
carried debt turns into account credit.

Who paid is said differently by API version. Up to 2024-06-20 the paid
invoice names its charge and PaymentIntent. From 2025-03-31.basil it names
neither; `invoice_payment.paid` links the invoice to the PaymentIntent (or
charge) that paid it, and may arrive before or after `invoice.paid`. Whichever
comes first books the money: `invoice.paid` as a payment under `<in_...>/paid`
when it does not yet know who paid, which `invoice_payment.paid` then links to
its PaymentIntent, so that a later refund or dispute finds it. Both hold a
lock on the Stripe invoice id, since Stripe sends them within milliseconds.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID

from billing_adapter.adapters import external_ids
from billing_adapter.adapters.stripe_objects import (
    associated_payment_references,
    balance_carried,
    day,
    invoice_payment_references,
    issue_command,
    ref,
)
from billing_adapter.domain.commands import (
    AdjustInvoice,
    Allocation,
    ApplyPayment,
    RecordPayment,
    VoidInvoice,
    WriteOffInvoice,
)
from billing_adapter.domain.invoicing import WRITE_OFF_RECOVERED
from billing_adapter.domain.state import Account
from billing_adapter.service_layer.accounts import (
    INVOICE,
    PAYMENT,
    Created,
    account_of,
    get_account,
    issue_invoice,
    record_payment,
)
from billing_adapter.service_layer.stripe_context import (
    STRIPE_ACTOR,
    Context,
    Ignored,
    account,
    also_known_as,
    known,
    known_payment,
)
from receivables_platform.contracts.billing import AdjustmentKind, PaymentMethod
from receivables_platform.ids import new_id

BALANCE_REASON = "stripe_customer_balance"


async def ensure_invoice(ctx: Context) -> tuple[UUID, UUID, Account]:
    """The invoice of this event issued (now, or by an earlier event): (account, invoice, state)."""
    invoice = ctx.event.object
    if int(invoice["total"]) <= 0:
        raise Ignored(f"invoice {invoice['id']} totals {invoice['total']}: nothing is owed")
    account_id = await account(ctx, invoice.get("customer"))
    made = await issue_invoice(
        ctx.conn,
        replace(issue_command(invoice, account_id, new_id()), actor=STRIPE_ACTOR),
        **ctx.trace,
    )
    state = made.account.state
    if made.created:
        state = await _settle_balance(ctx, account_id, made)
    return account_id, made.entity_id, state


async def _settle_balance(ctx: Context, account_id: UUID, made: Created) -> Account:
    """What the customer's Stripe balance took off or added to the invoice, once, at issue."""
    carried = balance_carried(ctx.event.object)
    if carried == 0:
        return made.account.state
    invoice = made.account.state.invoices[made.entity_id]
    loaded = await ctx.run(
        AdjustInvoice(
            account_id=account_id,
            invoice_id=invoice.invoice_id,
            adjustment_id=new_id(),
            kind=AdjustmentKind.DEBIT if carried > 0 else AdjustmentKind.CREDIT,
            amount_minor=abs(carried),
            reason_code=BALANCE_REASON,
            effective_date=invoice.issue_date,
            currency=invoice.currency,
            memo=(
                "debit carried from the customer's Stripe balance"
                if carried > 0
                else "paid from the customer's Stripe credit balance"
            ),
        )
    )
    return loaded.state


async def invoice_finalized(ctx: Context) -> str:
    _, invoice_id, _ = await ensure_invoice(ctx)
    return f"invoice {invoice_id}"


async def invoice_paid(ctx: Context) -> str:
    """The money `amount_paid` says was paid, booked once whichever event tells of it first.

    An invoice that was written off (`marked_uncollectible`) and then paid
    after all has the write-off taken back first: the money pays it rather
    than sitting on the account as credit.
    """
    invoice = ctx.event.object
    await external_ids.lock(ctx.conn, INVOICE, str(invoice["id"]))
    account_id, invoice_id, state = await ensure_invoice(ctx)
    amount = int(invoice.get("amount_paid") or 0)
    if amount <= 0:
        return f"invoice {invoice_id}: paid from the customer's Stripe balance, no payment"
    references = invoice_payment_references(invoice)
    if references:
        linked = await known_payment(ctx, references)
        if linked is not None:
            await also_known_as(ctx, linked, references)
            return f"invoice {invoice_id}, payment {linked} (already linked)"
    booked = state.invoices[invoice_id]
    unexplained = amount - (booked.applied_minor - booked.reopened_minor)
    if not references and unexplained <= 0:
        return f"invoice {invoice_id}: its invoice payments already paid it"
    if not references:
        amount = unexplained
    paid_on = day(
        (invoice.get("status_transitions") or {}).get("paid_at"),
        ctx.event.day,
        "data.object.status_transitions.paid_at",
    )
    payment_id = await _book(
        ctx,
        account_id,
        invoice_id,
        references or [unattributed(str(invoice["id"]))],
        amount,
        str(invoice["currency"]),
        paid_on,
        attributed=bool(references),
    )
    return f"invoice {invoice_id}, payment {payment_id}"


def unattributed(stripe_invoice: str) -> str:
    """The external id of money an invoice reports paid before anyone says who paid it."""
    return f"{stripe_invoice}/paid"


async def _book(
    ctx: Context,
    account_id: UUID,
    invoice_id: UUID,
    references: list[str],
    amount: int,
    currency: str,
    paid_on: date,
    *,
    attributed: bool = True,
) -> UUID:
    """Record the payment under its first id, answer to the others, and pay the invoice.

    `attributed`: the first id is Stripe's charge or PaymentIntent, which
    becomes the payment's reference too (not so for `unattributed` money).
    """
    made = await record_payment(
        ctx.conn,
        RecordPayment(
            payment_id=new_id(),
            account_id=account_id,
            external_id=references[0],
            amount_minor=amount,
            currency=currency.upper(),
            method=PaymentMethod.OTHER,
            received_on=paid_on,
            reference=references[0] if attributed else None,
            actor=STRIPE_ACTOR,
        ),
        **ctx.trace,
    )
    await also_known_as(ctx, made.entity_id, references[1:])
    if made.created:
        await _pay(ctx, account_id, invoice_id, made.entity_id, amount, paid_on)
    return made.entity_id


async def _pay(
    ctx: Context, account_id: UUID, invoice_id: UUID, payment_id: UUID, amount: int, paid_on: date
) -> None:
    invoice = (await get_account(ctx.conn, account_id)).state.invoices[invoice_id]
    still_written_off = invoice.written_off_minor - invoice.recovered_minor
    if still_written_off > 0 and not invoice.voided:
        await ctx.run(
            AdjustInvoice(
                account_id=account_id,
                invoice_id=invoice_id,
                adjustment_id=new_id(),
                kind=AdjustmentKind.DEBIT,
                amount_minor=min(amount, still_written_off),
                reason_code=WRITE_OFF_RECOVERED,
                effective_date=paid_on,
                currency=invoice.currency,
                memo="paid in Stripe after it was marked uncollectible",
            )
        )
        invoice = (await get_account(ctx.conn, account_id)).state.invoices[invoice_id]
    if invoice.open_minor > 0:
        await ctx.run(
            ApplyPayment(
                account_id=account_id,
                payment_id=payment_id,
                applied_on=paid_on,
                allocations=(Allocation(invoice_id, min(invoice.open_minor, amount)),),
            )
        )


async def invoice_payment_paid(ctx: Context) -> str:
    """Basil and later: which PaymentIntent or charge paid how much of which invoice.

    The invoice must be known (parked on it otherwise: this object names no
    customer). Money `invoice.paid` already booked under `<in_...>/paid` with
    the same amount is that payment: it is linked, not booked twice.
    """
    paid = ctx.event.object
    if paid.get("status") != "paid":
        raise Ignored(f"invoice payment {paid.get('id')} is {paid.get('status')}, not paid")
    stripe_invoice = ref(paid.get("invoice"))
    amount = paid.get("amount_paid")
    if stripe_invoice is None or not isinstance(amount, int) or amount <= 0:
        raise Ignored(f"invoice payment {paid.get('id')} names no invoice or no amount paid")
    references = associated_payment_references(paid) or [str(paid["id"])]
    await external_ids.lock(ctx.conn, INVOICE, stripe_invoice)
    invoice_id = await known(ctx, INVOICE, stripe_invoice, "invoice")
    booked = await known_payment(ctx, references)
    if booked is not None:
        await also_known_as(ctx, booked, references)
        return f"payment {booked} (already booked)"
    account_id = await account_of(ctx.conn, INVOICE, invoice_id)
    unlinked = await _unattributed_of_amount(ctx, stripe_invoice, amount)
    if unlinked is not None:
        await also_known_as(ctx, unlinked, references)
        return f"payment {unlinked} linked to {references[0]}"
    paid_on = day(
        (paid.get("status_transitions") or {}).get("paid_at"),
        ctx.event.day,
        "data.object.status_transitions.paid_at",
    )
    payment_id = await _book(
        ctx, account_id, invoice_id, references, amount, str(paid["currency"]), paid_on
    )
    return f"invoice {invoice_id}, payment {payment_id}"


async def _unattributed_of_amount(ctx: Context, stripe_invoice: str, amount: int) -> UUID | None:
    """The payment `invoice.paid` booked for this amount before anyone said who paid it.

    Linked once: the first invoice payment of that amount claims the marker
    `<in_...>/paid linked`, so a second one of the same amount is booked as
    the separate payment it is.
    """
    payment_id = await external_ids.find(ctx.conn, PAYMENT, unattributed(stripe_invoice))
    if payment_id is None:
        return None
    account_id = await account_of(ctx.conn, PAYMENT, payment_id)
    booked = (await get_account(ctx.conn, account_id)).state.payments[payment_id]
    if booked.amount_minor != amount or not await external_ids.claim(
        ctx.conn, PAYMENT, f"{unattributed(stripe_invoice)} linked", payment_id
    ):
        return None
    return payment_id


async def invoice_payment_failed(ctx: Context) -> str:
    _, invoice_id, _ = await ensure_invoice(ctx)
    attempts = ctx.event.object.get("attempt_count")
    return f"invoice {invoice_id}: payment attempt {attempts} failed, the invoice stays open"


async def invoice_voided(ctx: Context) -> str:
    account_id, invoice_id, state = await ensure_invoice(ctx)
    if not state.invoices[invoice_id].voided:
        voided_at = (ctx.event.object.get("status_transitions") or {}).get("voided_at")
        await ctx.run(
            VoidInvoice(
                account_id=account_id,
                invoice_id=invoice_id,
                voided_on=day(voided_at, ctx.event.day, "data.object.status_transitions.voided_at"),
                reason="voided in Stripe",
            )
        )
    return f"invoice {invoice_id}"


async def invoice_uncollectible(ctx: Context) -> str:
    account_id, invoice_id, state = await ensure_invoice(ctx)
    invoice = state.invoices[invoice_id]
    if invoice.voided or invoice.open_minor == 0:
        raise Ignored(f"invoice {invoice_id} owes nothing to write off")
    marked = (ctx.event.object.get("status_transitions") or {}).get("marked_uncollectible_at")
    await ctx.run(
        WriteOffInvoice(
            account_id=account_id,
            invoice_id=invoice_id,
            reason_code="uncollectible",
            written_off_on=day(
                marked, ctx.event.day, "data.object.status_transitions.marked_uncollectible_at"
            ),
        )
    )
    return f"invoice {invoice_id}"
