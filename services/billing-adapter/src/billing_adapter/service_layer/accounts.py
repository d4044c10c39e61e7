"""Use cases over the account aggregate: load, decide, append, in the caller's transaction.

Every entry point takes an asyncpg connection and runs in the transaction the
caller has open (the API's `Idempotency-Key` transaction, a webhook's, an
import batch's, a consumer's), so whatever else the caller writes commits with
the events or not at all. Writers to one account take a transaction-scoped
advisory lock first: they queue instead of failing each other's version
check, while the event store's unique index stays the guarantee.

Creates are idempotent on the billing system's external id: the same id again
returns what it made (`created=False`); the same id for something different
is refused. Connectors (Stripe, bulk import, case corrections) call these same
functions, passing `causation_id` when an incoming event caused the command.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from billing_adapter.adapters import account_entities, external_ids
from billing_adapter.adapters.external_ids import Taken
from billing_adapter.adapters.repositories import accounts
from billing_adapter.domain.account import decide, evolve
from billing_adapter.domain.commands import Command, IssueInvoice, RecordPayment, RegisterAccount
from billing_adapter.domain.profile import profile_changes
from billing_adapter.domain.state import Account
from receivables_platform.business_dates import business_dates
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import (
    AccountUpdated,
    InvoiceIssued,
    PayLinkCreated,
    PaymentReceived,
)
from receivables_platform.db.locks import hold_until_commit
from receivables_platform.db.transaction import atomic
from receivables_platform.domain import NotFound, RefusalKind, Refused
from receivables_platform.repository import Loaded, LockedRead, Repository
from receivables_platform.store import RecordedEvent

ACCOUNT, INVOICE, PAYMENT, PAY_LINK = "account", "invoice", "payment", "pay_link"
OWNED = frozenset({INVOICE, PAYMENT})
"""What a create indexes as its account's entity (`account_entities`) along with its claim."""
Check = Callable[[Account, int], None]


class ExternalIds(Protocol):
    """The billing system's ids, each claimed once for the platform id it names."""

    async def claim(
        self, conn: asyncpg.Connection, kind: str, external_id: str, internal_id: UUID, /
    ) -> bool: ...

    async def find(
        self, conn: asyncpg.Connection, kind: str, external_id: str, /
    ) -> UUID | None: ...

    async def claim_entity(
        self,
        conn: asyncpg.Connection,
        kind: str,
        external_id: str,
        entity_id: UUID,
        account_id: UUID,
        /,
    ) -> bool:
        """`claim`, and when it took the id, the entity's account in the entity index."""
        ...


class AccountEntities(Protocol):
    """Which account holds an invoice, a payment or a pay link (their ids are global)."""

    async def add(
        self, conn: asyncpg.Connection, kind: str, entity_id: UUID, account_id: UUID, /
    ) -> None: ...

    async def owner(
        self, conn: asyncpg.Connection, kind: str, entity_id: UUID, /
    ) -> UUID | None: ...


@dataclass(frozen=True)
class AccountStore:
    """Where the use cases keep accounts: their streams, the external ids claimed and the
    index of their entities, written in one transaction (`transaction(conn)`).

    `POSTGRES` everywhere the service runs; the use-case tests pass one kept in memory
    (`receivables_devkit.testing.fakes`) to check what the use cases decide without a
    database.
    """

    repository: Repository[Account]
    external_ids: ExternalIds
    entities: AccountEntities
    transaction: Callable[[asyncpg.Connection], AbstractAsyncContextManager[Any]]
    claiming: Callable[[str, str, UUID, UUID], LockedRead] | None = None
    """(kind, external id, entity, account) -> the account's locked read that claims the id
    and indexes the entity first, in the same round trip, raising `Taken` when the id names
    another entity; None: the claim is a call of its own (`external_ids.claim_entity`)."""


POSTGRES = AccountStore(
    accounts, external_ids, account_entities, atomic, external_ids.claiming_entity
)


@dataclass(frozen=True)
class Created:
    """The account after a create; the id created, or found under the same external id."""

    account: Loaded[Account]
    entity_id: UUID
    created: bool


async def lock_accounts(conn: asyncpg.Connection, account_ids: Iterable[UUID]) -> None:
    """The same locks for a batch of accounts, taken in one order so two batches cannot deadlock."""
    await hold_until_commit(conn, accounts.lock_namespace, *(str(a) for a in account_ids))


def team_today() -> date:
    """The team's date now: what the use cases decide with unless a caller says otherwise."""
    return business_dates().today()


async def execute(
    conn: asyncpg.Connection,
    command: Command,
    *,
    check: Check | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    today: date | None = None,
    store: AccountStore = POSTGRES,
    indexed: UUID | None = None,
    locked_read: LockedRead | None = None,
) -> Loaded[Account]:
    """Decide `command` on the account's current state and append what it decided.

    `check(state, version)` runs before deciding: the API passes its If-Match
    precondition there, so a stale client is refused before anything is decided.
    `today` (default: the team's date now) is the latest date an entry may have.
    `indexed` is an entity the caller has put in the entity index already (a create
    does it with its external id's claim, in `locked_read` when it gives one).
    """
    on = today if today is not None else team_today()

    async def index(conn: asyncpg.Connection, _: Account, events: Sequence[EventContract]) -> None:
        await _index(conn, store.entities, command.account_id, events, indexed)

    return await store.repository.execute(
        conn,
        command.account_id,
        lambda state: decide(command, state, on),
        subject=lambda _: str(command.account_id),
        check=check,
        after=index,
        correlation_id=correlation_id,
        causation_id=causation_id,
        locked_read=locked_read,
    )


async def _index(
    conn: asyncpg.Connection,
    entities: AccountEntities,
    account_id: UUID,
    events: Sequence[EventContract],
    indexed: UUID | None = None,
) -> None:
    for event in events:
        if isinstance(event, InvoiceIssued):
            if event.invoice_id != indexed:
                await entities.add(conn, INVOICE, event.invoice_id, account_id)
        elif isinstance(event, PaymentReceived):
            if event.payment_id != indexed:
                await entities.add(conn, PAYMENT, event.payment_id, account_id)
        elif isinstance(event, PayLinkCreated):
            await entities.add(conn, PAY_LINK, event.pay_link_id, account_id)


async def _create(
    conn: asyncpg.Connection,
    kind: str,
    external_id: str,
    entity_id: UUID,
    command: Command,
    existing: Callable[[UUID], Awaitable[Created]],
    correlation_id: str | None,
    causation_id: str | None,
    store: AccountStore,
) -> Created:
    # an invoice or a payment belongs to an account: its index row comes with the claim,
    # and where the store can, the claim comes with the account's lock and read
    owned = kind in OWNED
    claiming = store.claiming if owned else None
    async with store.transaction(conn):
        if claiming is None:
            if owned:
                claimed = await store.external_ids.claim_entity(
                    conn, kind, external_id, entity_id, command.account_id
                )
            else:
                claimed = await store.external_ids.claim(conn, kind, external_id, entity_id)
            if not claimed:
                taken = await store.external_ids.find(conn, kind, external_id)
                assert taken is not None, "a claimed external id is never released"
                return await existing(taken)
        try:
            loaded = await execute(
                conn,
                command,
                correlation_id=correlation_id,
                causation_id=causation_id,
                store=store,
                indexed=entity_id if owned else None,
                locked_read=None
                if claiming is None
                else claiming(kind, external_id, entity_id, command.account_id),
            )
        except Taken as other:
            return await existing(other.internal_id)
        return Created(loaded, entity_id, created=True)


def same_invoice(command: IssueInvoice, found: Account, invoice_id: UUID) -> bool:
    """Whether a create under a taken external id repeats what it names (so is a no-op)."""
    invoice = found.invoices[invoice_id]
    return (
        (found.account_id, invoice.total_minor, invoice.issue_date)
        == (command.account_id, command.total_minor, command.issue_date)
        and command.currency in (None, invoice.currency)
        and command.due_date in (None, invoice.due_date)
    )


def same_payment(command: RecordPayment, found: Account, payment_id: UUID) -> bool:
    paid = found.payments[payment_id]
    return (found.account_id, paid.amount_minor, paid.currency, paid.received_on) == (
        command.account_id,
        command.amount_minor,
        command.currency,
        command.received_on,
    )


def in_use(kind: str, external_id: str) -> Refused:
    return Refused(
        f"external id {external_id!r} already names another {kind}",
        field="external_id",
        title="External id in use",
        kind=RefusalKind.CONFLICT,
    )


async def register_account(
    conn: asyncpg.Connection,
    command: RegisterAccount,
    *,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    store: AccountStore = POSTGRES,
) -> Created:
    async def existing(account_id: UUID) -> Created:
        loaded = await get_account(conn, account_id, store=store)
        if loaded.state.currency != command.currency:
            raise in_use(ACCOUNT, command.external_id)
        return Created(loaded, account_id, created=False)

    return await _create(
        conn,
        ACCOUNT,
        command.external_id,
        command.account_id,
        command,
        existing,
        correlation_id,
        causation_id,
        store,
    )


async def issue_invoice(
    conn: asyncpg.Connection,
    command: IssueInvoice,
    *,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    store: AccountStore = POSTGRES,
) -> Created:
    async def existing(invoice_id: UUID) -> Created:
        loaded = await get_invoice(conn, invoice_id, store=store)
        if not same_invoice(command, loaded.state, invoice_id):
            raise in_use(INVOICE, command.external_id)
        return Created(loaded, invoice_id, created=False)

    return await _create(
        conn,
        INVOICE,
        command.external_id,
        command.invoice_id,
        command,
        existing,
        correlation_id,
        causation_id,
        store,
    )


async def record_payment(
    conn: asyncpg.Connection,
    command: RecordPayment,
    *,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    store: AccountStore = POSTGRES,
) -> Created:
    async def existing(payment_id: UUID) -> Created:
        loaded = await get_payment(conn, payment_id, store=store)
        if not same_payment(command, loaded.state, payment_id):
            raise in_use(PAYMENT, command.external_id)
        return Created(loaded, payment_id, created=False)

    return await _create(
        conn,
        PAYMENT,
        command.external_id,
        command.payment_id,
        command,
        existing,
        correlation_id,
        causation_id,
        store,
    )


async def get_account(
    conn: asyncpg.Connection,
    account_id: UUID,
    *,
    history: bool = False,
    store: AccountStore = POSTGRES,
) -> Loaded[Account]:
    """The account's state; with `history`, its stream's events too (the audit trail)."""
    loaded = await store.repository.load(conn, account_id, history=history)
    if not loaded.state.registered:
        raise NotFound(f"no account {account_id}", field="account_id")
    return loaded


PROFILE_EVENTS = ("billing.account.", "billing.autopay.")
"""What the account's own history holds; an invoice's events are in the invoice's history."""


@dataclass(frozen=True)
class ProfileStep:
    """One entry of the account's own history; `changes` (field, before, after) for an
    update, None for the other events."""

    event: RecordedEvent
    changes: list[tuple[str, Any, Any]] | None


async def profile_history(conn: asyncpg.Connection, account_id: UUID) -> list[ProfileStep]:
    """Registration, every profile edit with what it changed from what, and auto-pay changes,
    oldest first."""
    loaded = await get_account(conn, account_id, history=True)
    state, steps = Account(), []
    for event in loaded.history:
        if not event.type.startswith(PROFILE_EVENTS):
            continue
        contract = event.contract()
        after = evolve(state, contract)
        steps.append(
            ProfileStep(
                event,
                profile_changes(state, after) if isinstance(contract, AccountUpdated) else None,
            )
        )
        state = after
    return steps


async def account_of(
    conn: asyncpg.Connection, kind: str, entity_id: UUID, *, store: AccountStore = POSTGRES
) -> UUID:
    account_id = await store.entities.owner(conn, kind, entity_id)
    if account_id is None:
        raise NotFound(f"no {kind} {entity_id}", field=f"{kind}_id")
    return account_id


async def get_invoice(
    conn: asyncpg.Connection,
    invoice_id: UUID,
    *,
    history: bool = False,
    store: AccountStore = POSTGRES,
) -> Loaded[Account]:
    """The account that holds the invoice (its `invoices[invoice_id]`)."""
    account_id = await account_of(conn, INVOICE, invoice_id, store=store)
    return await get_account(conn, account_id, history=history, store=store)


async def get_payment(
    conn: asyncpg.Connection, payment_id: UUID, *, store: AccountStore = POSTGRES
) -> Loaded[Account]:
    """The account that holds the payment (its `payments[payment_id]`)."""
    account_id = await account_of(conn, PAYMENT, payment_id, store=store)
    return await get_account(conn, account_id, store=store)
