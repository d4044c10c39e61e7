"""Stripe webhook events as the same use cases the REST API runs, with Stripe ids as external ids.

Each event is applied once. Its id is claimed in `stripe_events` first, in the
transaction that then applies it, so a redelivery (Stripe retries anything it
did not see a 2xx for, and sometimes delivers twice anyway) changes nothing.

Stripe does not deliver in order, so every mapping is written to reach the
right state from any order:
- invoice events carry the whole invoice, so each first makes sure the invoice
  is issued (idempotent on its `in_...` id) and then applies its own change:
  `invoice.paid` before `invoice.finalized` issues and pays; the late
  `invoice.finalized` finds it issued and changes nothing;
- customer and subscription events carry the whole object, and a snapshot
  older than one already applied is ignored;
- an event that needs something Stripe has not told us about yet (an invoice
  of a customer we do not know, a credit note on an unknown invoice, a refund
  of an unknown charge) is *parked*: stored with its payload and what it waits
  for, answered 200, and replayed as soon as that account, invoice or payment
  exists. Answering 4xx instead would leave it to Stripe's retry schedule
  (hours apart, and only three tries in test mode) and flag the endpoint as
  failing for what is normal reordering.

An event the domain refuses (a void of an invoice with money on it) is stored
as *rejected* with the reason and answered 200: retrying cannot change the
answer. Parked and rejected events are listed by `GET /v1/webhooks/stripe/events`
and logged as warnings. Unknown event types are stored as *ignored*.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from prometheus_client import Counter
from pydantic import ValidationError

from billing_adapter.adapters import external_ids, stripe_events
from billing_adapter.adapters.stripe_events import Settled
from billing_adapter.adapters.stripe_objects import (
    MalformedEvent,
    StripeEvent,
    charge_references,
    customer_default_method,
    customer_profile,
    day,
    invoice_payment_reference,
    issue_command,
    parse_event,
    ref,
    removed_default_method,
    subscription_method,
)
from billing_adapter.domain.commands import (
    AdjustInvoice,
    Allocation,
    ApplyPayment,
    CancelAutoPay,
    Command,
    EnrolAutoPay,
    RecordPayment,
    RegisterAccount,
    ReversePayment,
    UpdateAccount,
    VoidInvoice,
    WriteOffInvoice,
)
from billing_adapter.domain.state import Account
from billing_adapter.service_layer.accounts import (
    ACCOUNT,
    INVOICE,
    PAYMENT,
    account_of,
    execute,
    get_account,
    issue_invoice,
    record_payment,
    register_account,
)
from receivables_platform.contracts.billing import AdjustmentKind, PaymentMethod, ReversalReason
from receivables_platform.domain import Refused
from receivables_platform.ids import new_id
from receivables_platform.repository import Loaded

log = structlog.get_logger("billing_adapter.stripe")
STRIPE_EVENTS = Counter(
    "stripe_webhook_events_total",
    "Stripe events received, by type and outcome (applied, ignored, parked, rejected, "
    "duplicate); parked and rejected ones want an alert",
    ["type", "outcome"])

CUSTOMER_EVENTS = ["customer.created", "customer.updated"]
SUBSCRIPTION_EVENTS = ["customer.subscription.created", "customer.subscription.updated"]
REPLAY_LIMIT = 1_000


@dataclass(frozen=True)
class Mapping:
    """What Stripe does not say and an account needs."""

    default_currency: str = "USD"
    payment_terms_days: int = 30


class Parked(Exception):
    def __init__(self, kind: str, external_id: str, detail: str) -> None:
        super().__init__(detail)
        self.kind, self.external_id, self.detail = kind, external_id, detail


class Ignored(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Context:
    conn: asyncpg.Connection
    event: StripeEvent
    mapping: Mapping
    correlation_id: str | None

    async def run(self, command: Command) -> Loaded[Account]:
        return await execute(self.conn, command, correlation_id=self.correlation_id,
                             causation_id=self.event.id)

    @property
    def trace(self) -> dict[str, Any]:
        return {"correlation_id": self.correlation_id, "causation_id": self.event.id}


Handler = Callable[[Context], Awaitable[str | None]]


# -- receiving ------------------------------------------------------------------------------------

async def receive(conn: asyncpg.Connection, event: StripeEvent, mapping: Mapping,
                  correlation_id: str | None = None) -> Settled | None:
    """Apply `event` once; None when its id was already received (a redelivery)."""
    async with conn.transaction():
        if not await stripe_events.claim(conn, event.id, event.type, event.object_id,
                                         event.created):
            log.info("stripe event redelivered", stripe_event=event.id, type=event.type)
            STRIPE_EVENTS.labels(type=event.type, outcome="duplicate").inc()
            return None
        settled = await _apply(Context(conn, event, mapping, correlation_id))
        await stripe_events.settle(conn, event.id, settled, payload=event.body)
    _log(event, settled)
    return settled


async def replay_parked(conn: asyncpg.Connection, mapping: Mapping,
                        correlation_id: str | None = None) -> int:
    """Apply every parked event whose account, invoice or payment now exists, oldest first.

    One transaction per event; an event applied here can unpark the next
    (a customer unparks its invoice, which unparks its credit note).
    """
    replayed = 0
    while replayed < REPLAY_LIMIT:
        async with conn.transaction():
            ready = await stripe_events.next_ready(conn)
            if ready is None:
                return replayed
            event = parse_event(ready[1])
            settled = await _apply(Context(conn, event, mapping, correlation_id))
            await stripe_events.settle(conn, event.id, settled)
        _log(event, settled, replayed=True)
        replayed += 1
    return replayed


def _log(event: StripeEvent, settled: Settled, replayed: bool = False) -> None:
    STRIPE_EVENTS.labels(type=event.type, outcome=settled.outcome).inc()
    level = log.warning if settled.outcome in ("parked", "rejected") else log.info
    level("stripe event", stripe_event=event.id, type=event.type, outcome=settled.outcome,
          detail=settled.detail, replayed=replayed)


async def _apply(ctx: Context) -> Settled:
    handler = HANDLERS.get(ctx.event.type)
    if handler is None:
        return Settled("ignored", f"{ctx.event.type} is not an event this connector maps")
    try:
        async with ctx.conn.transaction():  # a savepoint: a refusal leaves nothing half-done
            return Settled("applied", await handler(ctx))
    except Parked as parked:
        return Settled("parked", parked.detail, (parked.kind, parked.external_id))
    except Ignored as ignored:
        return Settled("ignored", ignored.detail)
    except Refused as refused:
        return Settled("rejected", f"{refused.title}: {refused.detail}")
    except (ValidationError, MalformedEvent, KeyError, TypeError, ValueError) as bad:
        return Settled("rejected", f"the {ctx.event.type} object cannot be read: {bad}")


# -- lookups --------------------------------------------------------------------------------------

async def _account(ctx: Context, customer: Any) -> UUID:
    customer_id = ref(customer)
    if customer_id is None:
        raise Ignored("the object names no customer")
    found = await external_ids.find(ctx.conn, ACCOUNT, customer_id)
    if found is None:
        raise Parked(ACCOUNT, customer_id, f"customer {customer_id} is not known yet")
    return found


async def _payment(ctx: Context, references: list[str], what: str) -> tuple[UUID, UUID]:
    """(account id, payment id) of the payment known by the first reference that names one."""
    for reference in references:
        payment_id = await external_ids.find(ctx.conn, PAYMENT, reference)
        if payment_id is not None:
            return await account_of(ctx.conn, PAYMENT, payment_id), payment_id
    if not references:
        raise Ignored(f"the {what} names no charge")
    raise Parked(PAYMENT, references[0], f"no payment of charge {references[0]} is known yet")


async def _ensure_invoice(ctx: Context) -> tuple[UUID, UUID, Account]:
    """The invoice of this event issued (now, or by an earlier event): (account, invoice, state)."""
    invoice = ctx.event.object
    if int(invoice["total"]) <= 0:
        raise Ignored(f"invoice {invoice['id']} totals {invoice['total']}: nothing is owed")
    account_id = await _account(ctx, invoice.get("customer"))
    made = await issue_invoice(ctx.conn, issue_command(invoice, account_id, new_id()),
                               **ctx.trace)
    return account_id, made.entity_id, made.account.state


# -- customers and auto-pay -----------------------------------------------------------------------

async def _skip_if_stale(ctx: Context, types: list[str]) -> None:
    object_id = ctx.event.object_id
    if object_id and await stripe_events.newer_applied(ctx.conn, object_id, types,
                                                       ctx.event.created):
        raise Ignored(f"a newer event about {object_id} was already applied")


async def customer_changed(ctx: Context) -> str:
    """Register or update the account, then follow the default payment method for auto-pay."""
    await _skip_if_stale(ctx, CUSTOMER_EVENTS)
    profile = customer_profile(ctx.event.object, ctx.mapping.default_currency)
    account_id = await external_ids.find(ctx.conn, ACCOUNT, profile.external_id)
    if account_id is None:
        made = await register_account(ctx.conn, RegisterAccount(
            account_id=new_id(), external_id=profile.external_id, name=profile.name,
            currency=profile.currency, payment_terms_days=ctx.mapping.payment_terms_days,
            contacts=profile.contacts, segment=profile.segment), **ctx.trace)
        account_id = made.entity_id
    else:
        await ctx.run(UpdateAccount(account_id=account_id, name=profile.name,
                                    contacts=profile.contacts, segment=profile.segment))
    method = customer_default_method(ctx.event.object)
    if method is not None:
        await _enrol(ctx, account_id, method)
    else:
        removed = removed_default_method(ctx.event.previous)
        state = (await get_account(ctx.conn, account_id)).state
        if removed and state.autopay and state.autopay.payment_method_reference == removed:
            await ctx.run(CancelAutoPay(account_id=account_id, cancelled_on=ctx.event.day,
                                        reason="default payment method removed in Stripe"))
    return f"account {account_id}"


async def _enrol(ctx: Context, account_id: UUID, method: tuple[str, str]) -> None:
    await ctx.run(EnrolAutoPay(account_id=account_id, payment_method_reference=method[0],
                               payment_method_type=method[1], enrolled_on=ctx.event.day))


async def subscription_changed(ctx: Context) -> str:
    """`charge_automatically` with a method is auto-pay; `send_invoice` is not."""
    await _skip_if_stale(ctx, SUBSCRIPTION_EVENTS)
    subscription = ctx.event.object
    account_id = await _account(ctx, subscription.get("customer"))
    collection = subscription.get("collection_method")
    if collection == "charge_automatically":
        method = subscription_method(subscription)
        if method is None:
            raise Ignored("it charges the customer's default payment method, which customer "
                          "events report")
        await _enrol(ctx, account_id, method)
        return f"auto-pay with {method[0]}"
    state = (await get_account(ctx.conn, account_id)).state
    if collection != "send_invoice" or state.autopay is None:
        raise Ignored(f"collection method {collection}: auto-pay unchanged")
    await ctx.run(CancelAutoPay(account_id=account_id, cancelled_on=ctx.event.day,
                                reason=f"subscription {subscription['id']} sends invoices"))
    return "auto-pay cancelled"


# -- invoices -------------------------------------------------------------------------------------

async def invoice_finalized(ctx: Context) -> str:
    _, invoice_id, _ = await _ensure_invoice(ctx)
    return f"invoice {invoice_id}"


async def invoice_paid(ctx: Context) -> str:
    """A payment of `amount_paid` under the charge's id, applied to this invoice.

    What the invoice no longer owes (a credit note came first) stays on the
    account as credit, as with any overpayment.
    """
    account_id, invoice_id, _ = await _ensure_invoice(ctx)
    invoice = ctx.event.object
    amount = int(invoice.get("amount_paid") or 0)
    if amount <= 0:
        return f"invoice {invoice_id}: paid from the customer's Stripe balance, no payment"
    reference = invoice_payment_reference(invoice)
    paid_on = day((invoice.get("status_transitions") or {}).get("paid_at"), ctx.event.day,
                  "data.object.status_transitions.paid_at")
    made = await record_payment(ctx.conn, RecordPayment(
        payment_id=new_id(), account_id=account_id,
        external_id=reference or f"{invoice['id']}/paid", amount_minor=amount,
        currency=str(invoice["currency"]).upper(), method=PaymentMethod.OTHER,
        received_on=paid_on, reference=reference), **ctx.trace)
    owed = made.account.state.invoices[invoice_id].open_minor
    if made.created and owed > 0:
        await ctx.run(ApplyPayment(account_id=account_id, payment_id=made.entity_id,
                                   applied_on=paid_on,
                                   allocations=(Allocation(invoice_id, min(owed, amount)),)))
    return f"invoice {invoice_id}, payment {made.entity_id}"


async def invoice_payment_failed(ctx: Context) -> str:
    _, invoice_id, _ = await _ensure_invoice(ctx)
    attempts = ctx.event.object.get("attempt_count")
    return f"invoice {invoice_id}: payment attempt {attempts} failed, the invoice stays open"


async def invoice_voided(ctx: Context) -> str:
    account_id, invoice_id, state = await _ensure_invoice(ctx)
    if not state.invoices[invoice_id].voided:
        voided_at = (ctx.event.object.get("status_transitions") or {}).get("voided_at")
        await ctx.run(VoidInvoice(account_id=account_id, invoice_id=invoice_id,
                                  voided_on=day(voided_at, ctx.event.day,
                                                "data.object.status_transitions.voided_at"),
                                  reason="voided in Stripe"))
    return f"invoice {invoice_id}"


async def invoice_uncollectible(ctx: Context) -> str:
    account_id, invoice_id, state = await _ensure_invoice(ctx)
    invoice = state.invoices[invoice_id]
    if invoice.voided or invoice.open_minor == 0:
        raise Ignored(f"invoice {invoice_id} owes nothing to write off")
    marked = (ctx.event.object.get("status_transitions") or {}).get("marked_uncollectible_at")
    await ctx.run(WriteOffInvoice(account_id=account_id, invoice_id=invoice_id,
                                  reason_code="uncollectible",
                                  written_off_on=day(
                                      marked, ctx.event.day,
                                      "data.object.status_transitions.marked_uncollectible_at")))
    return f"invoice {invoice_id}"


async def credit_note_created(ctx: Context) -> str:
    """The part credited before payment lowers what is owed; the rest is a refund or balance.

    Stripe types a credit note `pre_payment` or `post_payment` (later versions
    split one note into `pre_payment_amount` and `post_payment_amount`). Money
    credited after payment went back to the customer or to their Stripe
    balance, and is not a receivable: the refund itself comes as `charge.refunded`.
    """
    note = ctx.event.object
    stripe_invoice = ref(note.get("invoice"))
    if stripe_invoice is None:
        raise Ignored("the credit note names no invoice")
    invoice_id = await external_ids.find(ctx.conn, INVOICE, stripe_invoice)
    if invoice_id is None:
        raise Parked(INVOICE, stripe_invoice, f"invoice {stripe_invoice} is not known yet")
    pre = note.get("pre_payment_amount")
    amount = int(pre) if isinstance(pre, int) else (
        0 if note.get("type") == "post_payment" else int(note["amount"]))
    if amount <= 0:
        raise Ignored(f"credit note {note['id']} credits only after payment (a refund or "
                      "customer balance)")
    memo = " ".join(str(part) for part in (note.get("number") or note["id"], note.get("memo"))
                    if part)
    await ctx.run(AdjustInvoice(
        account_id=await account_of(ctx.conn, INVOICE, invoice_id), invoice_id=invoice_id,
        adjustment_id=new_id(), kind=AdjustmentKind.CREDIT, amount_minor=amount,
        reason_code=str(note.get("reason") or "credit_note")[:64],
        effective_date=day(note.get("effective_at") or note.get("created"), ctx.event.day,
                           "data.object.effective_at"),
        memo=memo[:1000], currency=str(note["currency"]).upper()))
    return f"invoice {invoice_id}"


# -- refunds and disputes -------------------------------------------------------------------------

async def _reverse(ctx: Context, account_id: UUID, payment_id: UUID,
                   reason: ReversalReason) -> str:
    state = (await get_account(ctx.conn, account_id)).state
    if state.payments[payment_id].reversed:
        raise Ignored(f"payment {payment_id} is already reversed")
    await ctx.run(ReversePayment(account_id=account_id, payment_id=payment_id, reason=reason,
                                 reversed_on=ctx.event.day))
    return f"payment {payment_id}"


async def charge_refunded(ctx: Context) -> str:
    """A full refund returns the payment: what it paid is owed again unless credited.

    A partial refund is left alone: a payment reverses whole or not at all
    here, and Stripe issues the credit note that changes what is owed.
    """
    charge = ctx.event.object
    if "invoice" in charge and charge["invoice"] is None:
        raise Ignored(f"charge {charge['id']} pays no invoice")
    account_id, payment_id = await _payment(ctx, charge_references(charge, "id"), "charge")
    if not charge.get("refunded"):
        raise Ignored(f"partial refund ({charge.get('amount_refunded')} of "
                      f"{charge.get('amount')}): the payment stands")
    return await _reverse(ctx, account_id, payment_id, ReversalReason.RETURNED)


async def dispute_created(ctx: Context) -> str:
    """The bank took the money back: a chargeback reverses the payment at once."""
    account_id, payment_id = await _payment(
        ctx, charge_references(ctx.event.object, "charge"), "dispute")
    return await _reverse(ctx, account_id, payment_id, ReversalReason.CHARGEBACK)


HANDLERS: dict[str, Handler] = {
    "customer.created": customer_changed,
    "customer.updated": customer_changed,
    "customer.subscription.created": subscription_changed,
    "customer.subscription.updated": subscription_changed,
    "invoice.finalized": invoice_finalized,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": invoice_payment_failed,
    "invoice.voided": invoice_voided,
    "invoice.marked_uncollectible": invoice_uncollectible,
    "credit_note.created": credit_note_created,
    "charge.refunded": charge_refunded,
    "charge.dispute.created": dispute_created,
}
