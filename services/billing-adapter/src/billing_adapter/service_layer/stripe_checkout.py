"""Stripe Checkout Sessions made for pay links, completed: the payment or enrolment they bring.

Only sessions this adapter made are ours (their `cs_...` is a pay link's
external id); any other is ignored. A payment-mode session pays once its
`payment_status` is `paid`: at `checkout.session.completed` for a card, at
`checkout.session.async_payment_succeeded` for a bank debit that settles
days later (its `completed` says `unpaid` and books nothing). The money is
recorded under the PaymentIntent, the id a later refund or dispute of it
names, and pays the link's invoices oldest first (`domain/pay_links.py`).
A setup-mode session enrols the account in auto-pay with the method saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from billing_adapter.adapters import external_ids
from billing_adapter.adapters.stripe_objects import payment_method, ref
from billing_adapter.domain.commands import ApplyPayment, EnrolAutoPay, RecordPayment
from billing_adapter.domain.pay_links import settlement
from billing_adapter.service_layer.accounts import (
    PAY_LINK,
    account_of,
    get_account,
    record_payment,
)
from billing_adapter.service_layer.stripe_context import (
    STRIPE_ACTOR,
    Context,
    Ignored,
    also_known_as,
)
from receivables_platform.contracts.billing import PayLinkPurpose, PaymentMethod
from receivables_platform.ids import new_id


async def checkout_session_paid(ctx: Context) -> str:
    session = ctx.event.object
    account_id, pay_link_id = await _pay_link(ctx, session)
    link = (await get_account(ctx.conn, account_id)).state.pay_links[pay_link_id]
    if link.purpose is PayLinkPurpose.AUTOPAY:
        return await _enrol(ctx, account_id, session)
    if session.get("payment_status") != "paid":
        raise Ignored(
            f"checkout session {session['id']} is {session.get('payment_status')}, "
            "not paid: its money comes with async_payment_succeeded"
        )
    amount, currency = session.get("amount_total"), session.get("currency")
    if not isinstance(amount, int) or amount <= 0 or not isinstance(currency, str):
        raise Ignored(f"checkout session {session['id']} says no amount or currency paid")
    references = [r for r in (ref(session.get("payment_intent")), str(session["id"])) if r]
    made = await record_payment(
        ctx.conn,
        RecordPayment(
            payment_id=new_id(),
            account_id=account_id,
            external_id=references[0],
            amount_minor=amount,
            currency=currency.upper(),
            method=PaymentMethod.OTHER,
            received_on=ctx.event.day,
            reference=references[0],
            actor=STRIPE_ACTOR,
        ),
        **ctx.trace,
    )
    await also_known_as(ctx, made.entity_id, references[1:])
    if not made.created:
        return f"payment {made.entity_id} (already booked)"
    state = (await get_account(ctx.conn, account_id)).state
    allocations = settlement(state, pay_link_id, amount)
    if allocations:
        await ctx.run(
            ApplyPayment(
                account_id=account_id,
                payment_id=made.entity_id,
                applied_on=ctx.event.day,
                allocations=allocations,
            )
        )
    return f"pay link {pay_link_id}, payment {made.entity_id}"


async def _pay_link(ctx: Context, session: Mapping[str, Any]) -> tuple[UUID, UUID]:
    pay_link_id = await external_ids.find(ctx.conn, PAY_LINK, str(session["id"]))
    if pay_link_id is None:
        raise Ignored(f"checkout session {session['id']} was not made for a pay link here")
    return await account_of(ctx.conn, PAY_LINK, pay_link_id), pay_link_id


async def _enrol(ctx: Context, account_id: UUID, session: Mapping[str, Any]) -> str:
    setup = session.get("setup_intent")
    method = payment_method(setup.get("payment_method")) if isinstance(setup, Mapping) else None
    method = method or payment_method(setup)
    if method is None:
        raise Ignored(f"checkout session {session['id']} saved no payment method")
    await ctx.run(
        EnrolAutoPay(
            account_id=account_id,
            payment_method_reference=method[0],
            payment_method_type=method[1],
            enrolled_on=ctx.event.day,
        )
    )
    return f"account {account_id} enrolled in auto-pay"
