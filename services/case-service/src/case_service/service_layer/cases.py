"""Use cases over the case aggregate: load, decide, append, in the caller's transaction.

Every entry point takes an asyncpg connection and runs in the transaction the
caller has open (the API's `Idempotency-Key` transaction, the consumer's), so
the events, their outbox rows and the case's search row commit together.
Writers to one case take a transaction-scoped advisory lock first: two agents
queue instead of failing each other's version check, and If-Match (checked
after the lock) tells the second one its copy is stale.

What the aggregate cannot know (whether an account, an invoice or an agent
exists) is checked here against case-service's own tables before deciding.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from case_service.adapters import billing_view, case_rows, directory
from case_service.adapters.repositories import cases
from case_service.domain import commands as c
from case_service.domain.case import decide
from case_service.domain.state import Case
from case_service.service_layer import notifications
from receivables_platform.contracts.base import EventContract
from receivables_platform.db.transaction import atomic
from receivables_platform.domain import NotFound, Refused
from receivables_platform.repository import Loaded, Repository

Check = Callable[[Case, int], None]
WithEvents = Callable[
    [asyncpg.Connection, Case, Sequence[EventContract], datetime], Awaitable[None]
]


async def _row_and_notifications(
    conn: asyncpg.Connection, state: Case, events: Sequence[EventContract], at: datetime
) -> None:
    await case_rows.save(conn, state, at)
    await notifications.after_case_events(conn, state, events)


class BillingView(Protocol):
    """What case-service knows of billing's accounts and invoices (from billing's events)."""

    async def account_exists(self, conn: asyncpg.Connection, account_id: UUID, /) -> bool: ...

    async def invoices(
        self, conn: asyncpg.Connection, invoice_ids: Sequence[UUID], /
    ) -> dict[UUID, billing_view.KnownInvoice]: ...


class Agents(Protocol):
    """Who may own a case."""

    async def register_on_first_use(self, conn: asyncpg.Connection, user_id: str, /) -> None: ...

    async def is_active_agent(self, conn: asyncpg.Connection, user_id: str, /) -> bool: ...


@dataclass(frozen=True)
class CaseStore:
    """Where the use cases keep cases: their streams, what must change with a case's events
    in the same transaction (its row for lists and search, its notifications), what they
    check a command against (billing's accounts and invoices, the agents) and the case
    numbers, all in one transaction (`transaction(conn)`).

    `POSTGRES` everywhere the service runs; the use-case tests pass one kept in memory
    (`receivables_devkit.testing.fakes`) to check what the use cases decide without a
    database.
    """

    repository: Repository[Case]
    with_events: WithEvents
    billing: BillingView
    agents: Agents
    next_case_number: Callable[[asyncpg.Connection], Awaitable[str]]
    transaction: Callable[[asyncpg.Connection], AbstractAsyncContextManager[Any]]


POSTGRES = CaseStore(
    cases, _row_and_notifications, billing_view, directory, case_rows.next_case_number, atomic
)


async def execute(
    conn: asyncpg.Connection,
    command: c.Command,
    *,
    check: Check | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    store: CaseStore = POSTGRES,
) -> Loaded[Case]:
    """Decide `command` on the case's current state and append what it decided.

    `check(state, version)` runs before deciding: the API passes its If-Match
    precondition there, so a stale client is refused before anything is decided.
    """

    async def with_events(
        conn: asyncpg.Connection, state: Case, events: Sequence[EventContract]
    ) -> None:
        await store.with_events(conn, state, events, command.at)

    return await store.repository.execute(
        conn,
        command.case_id,
        lambda state: decide(command, state),
        subject=lambda state: str(state.account_id or state.case_id),
        check=check,
        after=with_events,
        correlation_id=correlation_id,
        causation_id=causation_id,
    )


async def get_case(
    conn: asyncpg.Connection, case_id: UUID, *, store: CaseStore = POSTGRES
) -> Loaded[Case]:
    loaded = await store.repository.load(conn, case_id, history=False)
    if not loaded.state.opened:
        raise NotFound(f"no case {case_id}", field="case_id")
    return loaded


async def _check_links(
    conn: asyncpg.Connection,
    account_id: UUID | None,
    invoice_ids: tuple[UUID, ...],
    store: CaseStore,
) -> None:
    if account_id is not None and not await store.billing.account_exists(conn, account_id):
        raise Refused(
            f"no account {account_id} is known to billing",
            field="account_id",
            title="Unknown account",
        )
    if invoice_ids and account_id is None:
        raise Refused("linked invoices need the case's account", field="account_id")
    known = await store.billing.invoices(conn, invoice_ids)
    for index, invoice_id in enumerate(invoice_ids):
        invoice = known.get(invoice_id)
        if invoice is None or invoice.account_id != account_id:
            raise Refused(
                f"invoice {invoice_id} is not one of account {account_id}'s",
                field=f"body.invoice_ids.{index}",
                title="Unknown invoice",
            )


async def check_agent(
    conn: asyncpg.Connection,
    user_id: str,
    field: str,
    *,
    registers_self: bool = False,
    store: CaseStore = POSTGRES,
) -> None:
    """`registers_self`: the caller, an agent by role, takes the case; no admin step first."""
    if registers_self:
        await store.agents.register_on_first_use(conn, user_id)
    if not await store.agents.is_active_agent(conn, user_id):
        raise Refused(
            f"{user_id!r} is not an active case agent", field=field, title="Unknown agent"
        )


async def open_case(
    conn: asyncpg.Connection,
    command: c.OpenCase,
    *,
    correlation_id: str | None = None,
    owner_registers: bool = False,
    store: CaseStore = POSTGRES,
) -> Loaded[Case]:
    """Number the case and open it (links checked first)."""
    await _check_links(conn, command.account_id, command.invoice_ids, store)
    if command.owner_id is not None:
        await check_agent(
            conn, command.owner_id, "owner_id", registers_self=owner_registers, store=store
        )
    async with store.transaction(conn):
        command = replace(command, case_number=await store.next_case_number(conn))
        return await execute(conn, command, correlation_id=correlation_id, store=store)


async def assign(
    conn: asyncpg.Connection,
    command: c.AssignCase,
    *,
    check: Check | None,
    correlation_id: str | None = None,
    owner_registers: bool = False,
    store: CaseStore = POSTGRES,
) -> Loaded[Case]:
    await check_agent(
        conn, command.owner_id, "owner_id", registers_self=owner_registers, store=store
    )
    return await execute(conn, command, check=check, correlation_id=correlation_id, store=store)


async def request_correction(
    conn: asyncpg.Connection,
    command: c.RequestCorrection,
    *,
    check: Check | None,
    correlation_id: str | None = None,
    store: CaseStore = POSTGRES,
) -> Loaded[Case]:
    """The invoice must be the case account's; the amount is in its currency (stated or not)."""
    loaded = await get_case(conn, command.case_id, store=store)
    known = (await store.billing.invoices(conn, [command.invoice_id])).get(command.invoice_id)
    if known is None or known.account_id != loaded.state.account_id:
        raise Refused(
            f"invoice {command.invoice_id} is not one of this case's account's",
            field="invoice_id",
            title="Unknown invoice",
        )
    if command.currency and known.currency != command.currency:
        raise Refused(
            f"invoice {command.invoice_id} is billed in {known.currency}", field="currency"
        )
    return await execute(
        conn,
        replace(command, currency=known.currency),
        check=check,
        correlation_id=correlation_id,
        store=store,
    )


async def link(
    conn: asyncpg.Connection,
    command: c.LinkCase,
    *,
    check: Check | None,
    correlation_id: str | None = None,
    store: CaseStore = POSTGRES,
) -> Loaded[Case]:
    """The account must be known to billing and the invoices its own."""
    await _check_links(conn, command.account_id, command.invoice_ids, store)
    return await execute(conn, command, check=check, correlation_id=correlation_id, store=store)
