"""Events billing-adapter publishes on `billing.events.v1`."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import Field

from receivables_platform.contracts.base import EventContract, contract_for
from receivables_platform.contracts.topics import context_of
from receivables_platform.money import CurrencyCode

TOPIC = context_of("billing.").topic


@contract_for("billing.invoice.issued", 1, aggregate="invoice")
class InvoiceIssued(EventContract):
    invoice_id: UUID
    account_id: UUID
    external_id: str = Field(min_length=1, max_length=200)
    currency: CurrencyCode
    total_minor: int = Field(gt=0)
    issue_date: date
    due_date: date
