"""Stripe credit notes: the part credited before payment lowers what an invoice owes.

A credit note booked here is remembered under its `cn_...` id, so that
`credit_note.voided` can take back exactly what it took off. Voiding in
Stripe makes the invoice owe that amount again: a debit adjustment of the
same amount, leaving the credit and its reversal both in the history.
"""

from __future__ import annotations

from uuid import UUID

from billing_adapter.adapters import external_ids, stripe_events
from billing_adapter.adapters.stripe_objects import credit_note_memo, day, pre_payment_amount
from billing_adapter.domain.commands import AdjustInvoice
from billing_adapter.service_layer.accounts import INVOICE, account_of
from billing_adapter.service_layer.stripe_context import (
    CREDIT_NOTE,
    Context,
    Ignored,
    Parked,
    known,
)
from receivables_platform.contracts.billing import AdjustmentKind
from receivables_platform.ids import new_id


async def _invoice(ctx: Context) -> UUID:
    return await known(ctx, INVOICE, ctx.event.object.get("invoice"), "invoice")


async def credit_note_created(ctx: Context) -> str:
    note = ctx.event.object
    invoice_id = await _invoice(ctx)
    amount = pre_payment_amount(note)
    if amount <= 0:
        raise Ignored(
            f"credit note {note['id']} credits only after payment (a refund or customer balance)"
        )
    adjustment_id = new_id()
    await ctx.run(
        AdjustInvoice(
            account_id=await account_of(ctx.conn, INVOICE, invoice_id),
            invoice_id=invoice_id,
            adjustment_id=adjustment_id,
            kind=AdjustmentKind.CREDIT,
            amount_minor=amount,
            reason_code=str(note.get("reason") or "credit_note")[:64],
            effective_date=day(
                note.get("effective_at") or note.get("created"),
                ctx.event.day,
                "data.object.effective_at",
            ),
            memo=credit_note_memo(note),
            currency=str(note["currency"]).upper(),
        )
    )
    await external_ids.claim(ctx.conn, CREDIT_NOTE, str(note["id"]), adjustment_id)
    return f"invoice {invoice_id}"


async def credit_note_voided(ctx: Context) -> str:
    """What the voided note had credited is owed again; a note never booked changes nothing."""
    note = ctx.event.object
    note_id = str(note["id"])
    amount = pre_payment_amount(note)
    if amount <= 0:
        raise Ignored(f"credit note {note_id} credited only after payment: nothing was booked")
    if await external_ids.find(ctx.conn, CREDIT_NOTE, note_id) is None:
        created = await stripe_events.outcome_of(ctx.conn, note_id, "credit_note.created")
        if created in ("ignored", "rejected"):
            raise Ignored(
                f"credit note {note_id} was never booked (its creation was "
                f"{created}): nothing to take back"
            )
        raise Parked(CREDIT_NOTE, note_id, f"credit note {note_id} is not booked yet")
    invoice_id = await _invoice(ctx)
    await ctx.run(
        AdjustInvoice(
            account_id=await account_of(ctx.conn, INVOICE, invoice_id),
            invoice_id=invoice_id,
            adjustment_id=new_id(),
            kind=AdjustmentKind.DEBIT,
            amount_minor=amount,
            reason_code="credit_note_voided",
            effective_date=day(note.get("voided_at"), ctx.event.day, "data.object.voided_at"),
            memo=f"voided: {credit_note_memo(note)}"[:1000],
            currency=str(note["currency"]).upper(),
        )
    )
    return f"invoice {invoice_id}"
