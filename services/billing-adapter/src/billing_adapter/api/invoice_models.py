"""Request and response bodies of the invoice routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from billing_adapter.domain.invoice import Invoice
from receivables_platform.money import CurrencyCode
from receivables_platform.repository import Loaded


class IssueInvoiceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(
        min_length=1, max_length=200,
        description="The billing system's invoice id; creates are idempotent on it")
    account_id: UUID
    currency: CurrencyCode
    total_minor: int = Field(gt=0, description="Invoice total in minor units (cents)")
    issue_date: date
    due_date: date


class InvoiceResponse(BaseModel):
    invoice_id: UUID
    account_id: UUID
    external_id: str
    currency: str
    total_minor: int
    issue_date: date
    due_date: date
    version: int

    @classmethod
    def of(cls, loaded: Loaded[Invoice]) -> InvoiceResponse:
        s = loaded.state
        return cls(invoice_id=s.invoice_id, account_id=s.account_id, external_id=s.external_id,
                   currency=s.currency, total_minor=s.total_minor, issue_date=s.issue_date,
                   due_date=s.due_date, version=loaded.version)


class HistoryEntry(BaseModel):
    event_id: UUID
    type: str
    version: int
    recorded_at: datetime
    correlation_id: str | None
    causation_id: str | None
    data: dict[str, Any]


class InvoiceHistory(BaseModel):
    invoice_id: UUID
    events: list[HistoryEntry]
