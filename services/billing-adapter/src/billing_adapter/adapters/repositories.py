"""Where billing aggregates live: one stream per customer account in the service's event store."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from billing_adapter.domain import approval
from billing_adapter.domain.account import evolve
from billing_adapter.domain.state import Account
from receivables_platform.contracts.billing import (
    TOPIC,
    AccountRegistered,
    AccountUpdated,
    AutoPayCancelled,
    AutoPayEnrolled,
    InvoiceIssued,
    PaymentReceived,
)
from receivables_platform.domain import fold
from receivables_platform.repository import AggregateRepository
from receivables_platform.store import EventStore

SOURCE = "urn:receivables:billing-adapter"
store = EventStore(source=SOURCE, topic=TOPIC)
# the busiest accounts' latest state is kept per process: a read folds only what is new
accounts: AggregateRepository[Account] = AggregateRepository(
    store,
    prefix="account",
    initial=Account,
    evolve=evolve,
    lock_namespace="billing.account",
    remember=5_000,
)
approvals: AggregateRepository[approval.Approval] = AggregateRepository(
    store,
    prefix="approval",
    initial=approval.Approval,
    evolve=approval.evolve,
    lock_namespace="billing.approval",
)

PROFILE_EVENTS = [
    c.event_type for c in (AccountRegistered, AccountUpdated, AutoPayEnrolled, AutoPayCancelled)
]
CREATING_EVENTS = {
    "invoice": (InvoiceIssued.event_type, "invoice_id"),
    "payment": (PaymentReceived.event_type, "payment_id"),
}


@dataclass(frozen=True)
class ProfileView:
    """An account as creates see it: profile, plus only the entities asked for, at its version."""

    state: Account
    version: int


async def load_for_creates(
    conn: asyncpg.Connection, account_ids: Collection[UUID], kind: str, entity_ids: Collection[UUID]
) -> dict[UUID, ProfileView]:
    """Each account's profile events and the creating events of `entity_ids`, folded.

    Why not the whole stream: creating an invoice or a payment is decided on
    the profile alone (registered, currency, terms; the id is new, so it
    collides with nothing), and telling a repeated row from a conflicting one
    needs only the entity's creating event. Folding every invoice an account
    has for every row of a bulk import would cost time in the square of the
    file. `test_bulk_import_views` checks that `decide` agrees on both states.
    """
    streams = {accounts.stream_id(a): a for a in account_ids}
    creating, id_field = CREATING_EVENTS.get(kind, ("", "invoice_id"))
    histories = await store.load_many(
        conn,
        list(streams),
        where="type = ANY($2::text[]) OR (type = $3 AND data->>$4 = ANY($5))",
        args=(PROFILE_EVENTS, creating, id_field, [str(e) for e in entity_ids]),
    )
    versions = await store.stream_versions(conn, list(streams))
    return {
        account_id: ProfileView(
            fold(evolve, Account(), (e.contract() for e in histories[stream])), versions[stream]
        )
        for stream, account_id in streams.items()
    }
