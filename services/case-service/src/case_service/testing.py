"""Commands with defaults and given/when over the case aggregate, and API helpers, for tests.

In the package (not under tests/) so every test module and the integration
tests can state cases the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import asyncpg

from case_service.domain import commands as c
from case_service.domain.case import decide, evolve
from case_service.domain.state import Case
from case_service.service_layer.billing_events import handle_billing_event
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import AccountRegistered, Contact, InvoiceIssued
from receivables_platform.contracts.cases import (
    CaseOrigin,
    CasePriority,
    CaseStatus,
    CaseType,
    CustomerChannel,
)
from receivables_platform.db.pool import connect
from receivables_platform.domain import fold
from receivables_platform.envelope import CloudEvent
from receivables_platform.ids import new_id
from receivables_platform.web.auth import issue_token

if TYPE_CHECKING:
    import httpx

SECRET = "test-secret-for-case-api-0123456789abc"  # noqa: S105 (tests only)
AGENT, OTHER_AGENT = "agent-ann", "agent-bob"
CASE = UUID("01900000-0000-7000-8000-0000000000c1")
ACCOUNT = UUID("01900000-0000-7000-8000-000000000001")
INVOICE = UUID("01900000-0000-7000-8000-0000000000a1")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def at(days: float = 0) -> datetime:
    return T0 + timedelta(days=days)


def open_case(**overrides: Any) -> c.OpenCase:
    return replace(
        c.OpenCase(
            case_id=CASE,
            case_number="CASE-000001",
            account_id=ACCOUNT,
            type=CaseType.DISPUTE,
            origin=CaseOrigin.INBOUND_PHONE,
            priority=CasePriority.NORMAL,
            subject="Charged twice for October",
            description="Customer says INV-1 was billed twice",
            invoice_ids=(INVOICE,),
            sla_target_days=14,
            actor=AGENT,
            at=T0,
        ),
        **overrides,
    )


def status(to: CaseStatus, days: float = 1) -> c.ChangeStatus:
    return c.ChangeStatus(CASE, to, AGENT, at(days))


def note(body: str = "Checked the billing run", days: float = 1) -> c.AddNote:
    return c.AddNote(CASE, uuid4(), body, AGENT, at(days))


def resolve(days: float = 2) -> c.ResolveCase:
    return c.ResolveCase(CASE, "Duplicate line credited", AGENT, at(days))


def confirm(days: float = 3) -> c.RecordConfirmation:
    return c.RecordConfirmation(
        CASE, "Pat Customer", CustomerChannel.PHONE, at(days), AGENT, at(days)
    )


def close(days: float = 3) -> c.CloseCase:
    return c.CloseCase(CASE, AGENT, at(days))


def given(*commands: c.Command) -> Case:
    """The state after each command was decided and its events folded in."""
    state = Case()
    for command in commands:
        state = fold(evolve, state, decide(command, state))
    return state


def when(state: Case, command: c.Command) -> list[EventContract]:
    return decide(command, state)


# -- the HTTP API -------------------------------------------------------------------------------


def auth(sub: str = AGENT, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, roles or ('case_agent',))}"}


def create(sub: str = AGENT, *roles: str) -> dict[str, str]:
    return {**auth(sub, *roles), "Idempotency-Key": str(uuid4())}


def if_match(response: httpx.Response, sub: str = AGENT) -> dict[str, str]:
    return {**auth(sub), "If-Match": response.headers["ETag"]}


async def register_agents(client: httpx.AsyncClient) -> None:
    for user in (AGENT, OTHER_AGENT):
        put = await client.put(
            f"/v1/agents/{user}", json={"name": user}, headers=auth("root", "admin")
        )
        assert put.status_code == 200, put.text


async def feed(
    url: str,
    *contracts: EventContract,
    handler: Callable[[asyncpg.Connection, CloudEvent], Awaitable[None]] = handle_billing_event,
    source: str = "urn:receivables:billing-adapter",
) -> None:
    """Apply billing events (or, with `handler`, another topic's) through the consumer's
    handler, in one transaction each (on a connection set up as the service's pool sets them
    up)."""
    conn = await connect(url)
    try:
        for contract in contracts:
            event = CloudEvent(
                source=source,
                type=contract.event_type,
                subject="x",
                partitionkey="x",
                schemaversion=contract.version,
                data=contract.payload(),
            )
            async with conn.transaction():
                await handler(conn, event)
    finally:
        await conn.close()


async def billing_account(
    url: str, email: str = "pat@customer.test", invoices: int = 1
) -> tuple[UUID, list[UUID]]:
    account_id = new_id()
    invoice_ids = [new_id() for _ in range(invoices)]
    await feed(
        url,
        AccountRegistered(
            account_id=account_id,
            external_id=f"CUS-{uuid4().hex[:6]}",
            name="Acme",
            contacts=[Contact(name="Pat", email=email)],
            payment_terms_days=30,
            currency="USD",
        ),
        *(
            InvoiceIssued.model_validate(
                {
                    "invoice_id": i,
                    "account_id": account_id,
                    "external_id": f"INV-{i.hex[:6]}",
                    "currency": "USD",
                    "total_minor": 10_000,
                    "issue_date": date(2026, 10, 1),
                    "due_date": date(2026, 10, 31),
                }
            )
            for i in invoice_ids
        ),
    )
    return account_id, invoice_ids


def case_body(account_id: UUID | None, invoice_ids: list[UUID], **overrides: Any) -> dict[str, Any]:
    return {
        "account_id": str(account_id) if account_id else None,
        "type": "dispute",
        "origin": "inbound_phone",
        "priority": "high",
        "subject": "Charged twice",
        "description": "Customer says October was billed twice",
        "invoice_ids": [str(i) for i in invoice_ids],
        **overrides,
    }


async def opened_case(api: httpx.AsyncClient, url: str, **overrides: Any) -> httpx.Response:
    """A case opened over the API on a new billing account with one invoice."""
    account_id, invoices = await billing_account(url)
    opened = await api.post(
        "/v1/cases", json=case_body(account_id, invoices, **overrides), headers=create()
    )
    assert opened.status_code == 201, opened.text
    return opened


async def count(url: str, sql: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def feed_collections(url: str, *contracts: EventContract) -> None:
    """Apply collections events through case-service's collections consumer."""
    from case_service.service_layer.collections_events import handle_collections_event

    await feed(
        url,
        *contracts,
        handler=handle_collections_event,
        source="urn:receivables:collections-service",
    )
