"""Issuing invoices, idempotent on the billing system's external id."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from billing_adapter.adapters import external_ids
from billing_adapter.adapters.repositories import invoices
from billing_adapter.domain.invoice import Invoice, IssueInvoice, decide
from receivables_platform.domain import NotFound, Refused
from receivables_platform.repository import Loaded

INVOICE = "invoice"


@dataclass(frozen=True)
class Issued:
    invoice: Loaded[Invoice]
    created: bool


def _same_invoice(state: Invoice, command: IssueInvoice) -> bool:
    return (state.account_id, state.currency, state.total_minor, state.issue_date,
            state.due_date) == (command.account_id, command.currency, command.total_minor,
                                command.issue_date, command.due_date)


async def issue_invoice(conn: asyncpg.Connection, command: IssueInvoice,
                        correlation_id: str | None = None) -> Issued:
    """A repeat of the same external id returns the invoice it made; a different one is refused."""
    async with conn.transaction():
        if not await external_ids.claim(conn, INVOICE, command.external_id, command.invoice_id):
            existing_id = await external_ids.find(conn, INVOICE, command.external_id)
            assert existing_id is not None
            existing = await invoices.load(conn, existing_id)
            if not _same_invoice(existing.state, command):
                raise Refused(f"external id {command.external_id!r} already names another invoice",
                              field="external_id", title="External id in use", status=409)
            return Issued(existing, created=False)
        events = decide(command, Invoice())
        await invoices.save(conn, command.invoice_id, 0, events,
                            subject=str(command.account_id), correlation_id=correlation_id)
        return Issued(await invoices.load(conn, command.invoice_id), created=True)


async def get_invoice(conn: asyncpg.Connection, invoice_id: UUID) -> Loaded[Invoice]:
    loaded = await invoices.load(conn, invoice_id)
    if loaded.version == 0:
        raise NotFound(f"no invoice {invoice_id}", field="invoice_id")
    return loaded
