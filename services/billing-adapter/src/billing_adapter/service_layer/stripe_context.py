"""What every Stripe event handler shares: the event's context, its outcomes, and id lookups.

A handler returns what it did, or raises `Parked` (it needs an account,
invoice, payment or credit note Stripe has not told us about yet) or
`Ignored` (nothing in it is ours to book). The connector
(`stripe_connector.py`) turns those into the stored outcome.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg

from billing_adapter.adapters import external_ids
from billing_adapter.adapters.stripe_objects import StripeEvent, ref
from billing_adapter.domain.commands import Command
from billing_adapter.domain.state import Account
from billing_adapter.service_layer.accounts import ACCOUNT, PAYMENT, account_of, execute
from receivables_platform.repository import Loaded

STRIPE_ACTOR = "stripe"
"""The `actor` of what a Stripe webhook changes."""
CREDIT_NOTE = "credit_note"
"""External ids of credit notes we booked (`cn_...` to the adjustment they made)."""


@dataclass(frozen=True)
class Mapping:
    """What Stripe does not say and the connector needs.

    `parked_ttl`: how long an event may wait for a payment or credit note
    before it is given up as `ignored`. Only Stripe's own later events can
    bring those (no backfill makes a payment known by a `ch_`/`pi_` id), and
    Stripe retries a delivery for three days, so anything still missing after
    that never comes: a refund or dispute of a charge that paid no invoice,
    say. Events waiting for a customer or invoice are kept: a backfill can
    still bring those.
    """

    default_currency: str = "USD"
    payment_terms_days: int = 30
    parked_ttl: timedelta = timedelta(days=3)


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
        """Recorded as Stripe's doing: the billing system decided it, nobody here did."""
        return await execute(
            self.conn,
            replace(command, actor=STRIPE_ACTOR),
            correlation_id=self.correlation_id,
            causation_id=self.event.id,
        )

    @property
    def trace(self) -> dict[str, Any]:
        return {"correlation_id": self.correlation_id, "causation_id": self.event.id}


Handler = Callable[[Context], Awaitable[str | None]]


async def known(ctx: Context, kind: str, value: Any, what: str) -> UUID:
    """Our id of the Stripe object `value` names (an id or the expanded object), or parked."""
    external_id = ref(value)
    if external_id is None:
        raise Ignored(f"the {ctx.event.object.get('object') or 'object'} names no {what}")
    found = await external_ids.find(ctx.conn, kind, external_id)
    if found is None:
        raise Parked(kind, external_id, f"{what} {external_id} is not known yet")
    return found


async def account(ctx: Context, customer: Any) -> UUID:
    return await known(ctx, ACCOUNT, customer, "customer")


async def known_payment(ctx: Context, references: list[str]) -> UUID | None:
    """The payment known by any of these ids (a charge, its PaymentIntent, an alias)."""
    found = await external_ids.find_many(ctx.conn, PAYMENT, references)
    return next((UUID(str(found[r])) for r in references if r in found), None)


async def also_known_as(ctx: Context, payment_id: UUID, references: list[str]) -> None:
    """Record every id Stripe may later name this payment by.

    A refund names its charge and PaymentIntent, a dispute its charge and
    PaymentIntent, an `invoice_payment` usually only the PaymentIntent: which
    one a later event uses depends on the API version, so the payment answers
    to all of them. An id already naming another payment is left alone.
    """
    for reference in references:
        await external_ids.claim(ctx.conn, PAYMENT, reference, payment_id)


async def payment(ctx: Context, references: list[str], what: str) -> tuple[UUID, UUID]:
    """(account id, payment id) of the payment known by one of `references`.

    Parked, when none is known yet, on the PaymentIntent when there is one:
    that is the id every API version links a payment to its invoice by.
    """
    payment_id = await known_payment(ctx, references)
    if payment_id is not None:
        return await account_of(ctx.conn, PAYMENT, payment_id), payment_id
    if not references:
        raise Ignored(f"the {what} names no charge")
    waiting_on = references[-1]
    raise Parked(PAYMENT, waiting_on, f"no payment of {' / '.join(references)} is known yet")
