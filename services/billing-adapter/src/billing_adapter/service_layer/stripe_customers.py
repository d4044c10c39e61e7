"""Stripe customers and subscriptions: the account's profile and its auto-pay enrolment.

Customer and subscription events carry the whole object, so a snapshot older
than one already applied is ignored rather than undoing the newer one.
"""

from __future__ import annotations

from uuid import UUID

from billing_adapter.adapters import external_ids, stripe_events
from billing_adapter.adapters.stripe_objects import (
    customer_default_method,
    customer_profile,
    removed_default_method,
    subscription_method,
)
from billing_adapter.domain.commands import (
    CancelAutoPay,
    EnrolAutoPay,
    RegisterAccount,
    UpdateAccount,
)
from billing_adapter.service_layer.accounts import ACCOUNT, get_account, register_account
from billing_adapter.service_layer.stripe_context import STRIPE_ACTOR, Context, Ignored, account
from receivables_platform.ids import new_id

CUSTOMER_EVENTS = ["customer.created", "customer.updated"]
SUBSCRIPTION_EVENTS = ["customer.subscription.created", "customer.subscription.updated"]


async def _skip_if_stale(ctx: Context, types: list[str]) -> None:
    object_id = ctx.event.object_id
    if object_id and await stripe_events.newer_applied(
        ctx.conn, object_id, types, ctx.event.created
    ):
        raise Ignored(f"a newer event about {object_id} was already applied")


async def customer_changed(ctx: Context) -> str:
    """Register or update the account, then follow the default payment method for auto-pay."""
    await _skip_if_stale(ctx, CUSTOMER_EVENTS)
    profile = customer_profile(ctx.event.object, ctx.mapping.default_currency)
    account_id = await external_ids.find(ctx.conn, ACCOUNT, profile.external_id)
    if account_id is None:
        made = await register_account(
            ctx.conn,
            RegisterAccount(
                account_id=new_id(),
                external_id=profile.external_id,
                name=profile.name,
                currency=profile.currency,
                payment_terms_days=ctx.mapping.payment_terms_days,
                contacts=profile.contacts,
                segment=profile.segment,
                actor=STRIPE_ACTOR,
            ),
            **ctx.trace,
        )
        account_id = made.entity_id
    else:
        await ctx.run(
            UpdateAccount(
                account_id=account_id,
                name=profile.name,
                contacts=profile.contacts,
                segment=profile.segment,
            )
        )
    method = customer_default_method(ctx.event.object)
    if method is not None:
        await _enrol(ctx, account_id, method)
    else:
        removed = removed_default_method(ctx.event.previous)
        state = (await get_account(ctx.conn, account_id)).state
        if removed and state.autopay and state.autopay.payment_method_reference == removed:
            await ctx.run(
                CancelAutoPay(
                    account_id=account_id,
                    cancelled_on=ctx.event.day,
                    reason="default payment method removed in Stripe",
                )
            )
    return f"account {account_id}"


async def _enrol(ctx: Context, account_id: UUID, method: tuple[str, str]) -> None:
    await ctx.run(
        EnrolAutoPay(
            account_id=account_id,
            payment_method_reference=method[0],
            payment_method_type=method[1],
            enrolled_on=ctx.event.day,
        )
    )


async def subscription_changed(ctx: Context) -> str:
    """`charge_automatically` with a method is auto-pay; `send_invoice` is not."""
    await _skip_if_stale(ctx, SUBSCRIPTION_EVENTS)
    subscription = ctx.event.object
    account_id = await account(ctx, subscription.get("customer"))
    collection = subscription.get("collection_method")
    if collection == "charge_automatically":
        method = subscription_method(subscription)
        if method is None:
            raise Ignored(
                "it charges the customer's default payment method, which customer events report"
            )
        await _enrol(ctx, account_id, method)
        return f"auto-pay with {method[0]}"
    state = (await get_account(ctx.conn, account_id)).state
    if collection != "send_invoice" or state.autopay is None:
        raise Ignored(f"collection method {collection}: auto-pay unchanged")
    await ctx.run(
        CancelAutoPay(
            account_id=account_id,
            cancelled_on=ctx.event.day,
            reason=f"subscription {subscription['id']} sends invoices",
        )
    )
    return "auto-pay cancelled"
