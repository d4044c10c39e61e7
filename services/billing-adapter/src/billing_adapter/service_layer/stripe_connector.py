"""Stripe webhook events as the same use cases the REST API runs, with Stripe ids as external ids.

Each event is applied once. Its id is claimed in `stripe_events` first, in the
transaction that then applies it, so a redelivery (Stripe retries anything it
did not see a 2xx for, and sometimes delivers twice anyway) changes nothing.

Stripe does not deliver in order, so every mapping is written to reach the
right state from any order (the handlers, by what they map: `stripe_customers`,
`stripe_invoices`, `stripe_credit_notes`, `stripe_reversals`, and `stripe_checkout`
for the pay links this adapter made). An event that
needs something Stripe has not told us about yet (an invoice of a customer we
do not know, a credit note on an unknown invoice, a refund of an unknown
charge) is *parked*: stored with its payload and what it waits for, answered
200, and replayed as soon as that account, invoice, payment or credit note
exists. Answering 4xx instead would leave it to Stripe's retry schedule (hours
apart, and only three tries in test mode) and flag the endpoint as failing
for what is normal reordering. What waits for a payment or credit note longer
than `Mapping.parked_ttl` never gets it and is given up as *ignored* with the
reason; what waits for a customer or invoice waits for a backfill.

An event the domain refuses (a void of an invoice with money on it) is stored
as *rejected* with the reason and answered 200: retrying cannot change the
answer. Parked and rejected events are listed by `GET /v1/webhooks/stripe/events`
and logged as warnings; `stripe_webhook_parked_events` is how many wait now,
so an alert on it clears when they are applied or given up. Unknown event
types are stored as *ignored*.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import structlog
from prometheus_client import Counter, Gauge
from pydantic import ValidationError

from billing_adapter.adapters import stripe_events
from billing_adapter.adapters.stripe_events import Settled
from billing_adapter.adapters.stripe_objects import MalformedEvent, StripeEvent, parse_event
from billing_adapter.service_layer.accounts import ACCOUNT, INVOICE, PAYMENT
from billing_adapter.service_layer.stripe_checkout import checkout_session_paid
from billing_adapter.service_layer.stripe_context import (
    CREDIT_NOTE,
    Context,
    Handler,
    Ignored,
    Mapping,
    Parked,
)
from billing_adapter.service_layer.stripe_credit_notes import (
    credit_note_created,
    credit_note_voided,
)
from billing_adapter.service_layer.stripe_customers import customer_changed, subscription_changed
from billing_adapter.service_layer.stripe_invoices import (
    invoice_finalized,
    invoice_paid,
    invoice_payment_failed,
    invoice_payment_paid,
    invoice_uncollectible,
    invoice_voided,
)
from billing_adapter.service_layer.stripe_reversals import charge_refunded, dispute_created
from receivables_platform.domain import Refused

__all__ = ["Mapping", "receive", "replay_parked", "sweep_parked_forever"]

log = structlog.get_logger("billing_adapter.stripe")
STRIPE_EVENTS = Counter(
    "stripe_webhook_events_total",
    "Stripe events received, by type and outcome (applied, ignored, parked, rejected, "
    "duplicate); a replayed or given-up parked event counts again under its new outcome",
    ["type", "outcome"],
)
PARKED = Gauge(
    "stripe_webhook_parked_events",
    "Stripe events parked now, by what they wait for (account, invoice, payment, "
    "credit_note): the number to alert on, since it falls when they are applied or given up",
    ["waiting_for"],
)
WAITING_KINDS = (ACCOUNT, INVOICE, PAYMENT, CREDIT_NOTE)
ONLY_STRIPE_BRINGS = [PAYMENT, CREDIT_NOTE]
REPLAY_LIMIT = 1_000


# -- receiving ------------------------------------------------------------------------------------


async def receive(
    conn: asyncpg.Connection,
    event: StripeEvent,
    mapping: Mapping,
    correlation_id: str | None = None,
) -> Settled | None:
    """Apply `event` once; None when its id was already received (a redelivery)."""
    async with conn.transaction():
        if not await stripe_events.claim(
            conn, event.id, event.type, event.object_id, event.created
        ):
            log.info("stripe event redelivered", stripe_event=event.id, type=event.type)
            STRIPE_EVENTS.labels(type=event.type, outcome="duplicate").inc()
            return None
        settled = await _apply(Context(conn, event, mapping, correlation_id))
        await stripe_events.settle(conn, event.id, settled, payload=event.body)
    _log(event, settled)
    if settled.outcome == "parked":
        await count_parked(conn)
    return settled


async def replay_parked(
    conn: asyncpg.Connection, mapping: Mapping, correlation_id: str | None = None
) -> int:
    """Apply every parked event whose account, invoice or payment now exists, oldest first.

    One transaction per event; an event applied here can unpark the next
    (a customer unparks its invoice, which unparks its credit note). Then
    what has waited past `mapping.parked_ttl` for what only Stripe can bring
    is given up, and the parked gauge is set from what is left.
    """
    replayed = 0
    while replayed < REPLAY_LIMIT:
        async with conn.transaction():
            ready = await stripe_events.next_ready(conn)
            if ready is None:
                break
            event = parse_event(ready[1])
            settled = await _apply(Context(conn, event, mapping, correlation_id))
            await stripe_events.settle(conn, event.id, settled)
        _log(event, settled, replayed=True)
        replayed += 1
    for given_up in await stripe_events.give_up_parked(
        conn, ONLY_STRIPE_BRINGS, mapping.parked_ttl
    ):
        STRIPE_EVENTS.labels(type=given_up.type, outcome="ignored").inc()
        log.warning(
            "stripe event given up",
            stripe_event=given_up.event_id,
            type=given_up.type,
            outcome="ignored",
            detail=given_up.detail,
        )
    await count_parked(conn)
    return replayed


async def sweep_parked_forever(
    pool: asyncpg.Pool, mapping: Mapping, every: timedelta = timedelta(minutes=5)
) -> None:
    """Background worker: replay, give up and count parked events without waiting for a delivery.

    A quiet endpoint would otherwise keep an event past its time parked, and
    this process's gauge unset or stale, until the next webhook arrived.
    Replicas may all sweep: replay skips what another holds, and giving up
    is one idempotent statement.
    """
    while True:
        try:
            async with pool.acquire() as conn:
                await replay_parked(conn, mapping)
        except Exception as exc:  # a missed sweep must not end the loop; the next catches up
            log.warning("stripe parked sweep failed", error=repr(exc))
        await asyncio.sleep(every.total_seconds())


async def count_parked(conn: asyncpg.Connection) -> None:
    counts = await stripe_events.parked_counts(conn)
    for kind in {*WAITING_KINDS, *counts}:
        PARKED.labels(waiting_for=kind).set(counts.get(kind, 0))


def _log(event: StripeEvent, settled: Settled, replayed: bool = False) -> None:
    STRIPE_EVENTS.labels(type=event.type, outcome=settled.outcome).inc()
    level = log.warning if settled.outcome in ("parked", "rejected") else log.info
    level(
        "stripe event",
        stripe_event=event.id,
        type=event.type,
        outcome=settled.outcome,
        detail=settled.detail,
        replayed=replayed,
        api_version=event.api_version,
    )


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
    except (
        ValidationError,
        MalformedEvent,
        AttributeError,
        KeyError,
        TypeError,
        ValueError,
    ) as bad:  # a field of another shape than Stripe's (a list for an object)
        return Settled("rejected", f"the {ctx.event.type} object cannot be read: {bad}")


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
    "invoice_payment.paid": invoice_payment_paid,
    "credit_note.created": credit_note_created,
    "credit_note.voided": credit_note_voided,
    "charge.refunded": charge_refunded,
    "charge.dispute.created": dispute_created,
    "checkout.session.completed": checkout_session_paid,
    "checkout.session.async_payment_succeeded": checkout_session_paid,
}
