"""The invoice aggregate as the billing system knows it.

This first slice issues invoices; adjustments, voids, write-offs and payment
applications extend the same decide/evolve pair.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import InvoiceIssued
from receivables_platform.domain import Refused


@dataclass(frozen=True)
class IssueInvoice:
    invoice_id: UUID
    account_id: UUID
    external_id: str
    currency: str
    total_minor: int
    issue_date: date
    due_date: date


@dataclass(frozen=True)
class Invoice:
    version: int = 0
    invoice_id: UUID | None = None
    account_id: UUID | None = None
    external_id: str | None = None
    currency: str | None = None
    total_minor: int = 0
    issue_date: date | None = None
    due_date: date | None = None

    @property
    def issued(self) -> bool:
        return self.invoice_id is not None


Command = IssueInvoice


def decide(command: Command, state: Invoice) -> list[EventContract]:
    if state.issued:
        raise Refused(f"invoice {state.invoice_id} is already issued", field="invoice_id",
                      title="Invoice already issued", status=409)
    if command.total_minor <= 0:
        raise Refused("an invoice total must be positive", field="total_minor")
    if command.due_date < command.issue_date:
        raise Refused("the due date is before the issue date", field="due_date")
    return [InvoiceIssued(
        invoice_id=command.invoice_id, account_id=command.account_id,
        external_id=command.external_id, currency=command.currency,
        total_minor=command.total_minor, issue_date=command.issue_date,
        due_date=command.due_date,
    )]


def evolve(state: Invoice, event: EventContract) -> Invoice:
    state = replace(state, version=state.version + 1)
    if isinstance(event, InvoiceIssued):
        return replace(state, invoice_id=event.invoice_id, account_id=event.account_id,
                       external_id=event.external_id, currency=event.currency,
                       total_minor=event.total_minor, issue_date=event.issue_date,
                       due_date=event.due_date)
    return state
