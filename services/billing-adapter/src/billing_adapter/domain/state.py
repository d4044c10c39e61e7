"""What an account knows: profile, auto-pay, and the balances of its invoices and payments.

Plain frozen values; only `account.evolve` builds them, one event at a time.

The account repository remembers thousands of these states, and every full
garbage collection walks every object in them that the collector tracks,
with the event loop stopped. So what no decision reads (an invoice's lines
and instalments, kept only to be shown) is held as tuples of plain values,
which the collector stops tracking, not as models: `bench_remembered_states`
prints what a state holds and what a full collection over 5,000 of them costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from receivables_platform.contracts.billing import Contact, Instalment, InvoiceLine, PayLinkPurpose

LineValues = tuple[str, int, int, int]
"""An invoice line: description, quantity, unit price and amount (minor units)."""
InstalmentValues = tuple[date, int]
"""An instalment: its due date and amount (minor units)."""


def line_values(line: InvoiceLine) -> LineValues:
    return (line.description, line.quantity, line.unit_price_minor, line.amount_minor)


def instalment_values(instalment: Instalment) -> InstalmentValues:
    return (instalment.due_date, instalment.amount_minor)


@dataclass(frozen=True)
class Entry:
    """One dated change to an invoice's open balance, and what made it.

    Kept per invoice because a backdated command must be decided against the
    balance on its own date and every later one, not today's; `what` names
    the entry when it is the reason a command is refused.
    """

    effective_date: date
    amount_minor: int  # what it adds to the open balance: credits, payments are negative
    what: str


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    VOIDED = "voided"
    WRITTEN_OFF = "written_off"


@dataclass(frozen=True)
class AutoPay:
    payment_method_reference: str
    payment_method_type: str
    enrolled_on: date


@dataclass(frozen=True)
class InvoiceBalance:
    """One invoice and the money that moved against it.

    `recovered_minor` is what was written off and then owed again because the
    customer paid after all (a `write_off_recovered` debit): an invoice whose
    write-off is wholly recovered is paid, not written off.

    `version` is the account version of the last event that touched this
    invoice: the invoice's ETag, so a change elsewhere in the account does not
    make a client's copy of this invoice stale.
    """

    invoice_id: UUID
    external_id: str
    currency: str
    total_minor: int
    subtotal_minor: int
    tax_minor: int
    issue_date: date
    due_date: date
    lines: tuple[LineValues, ...]
    instalments: tuple[InstalmentValues, ...]
    version: int
    credits_minor: int = 0
    debits_minor: int = 0
    applied_minor: int = 0
    reopened_minor: int = 0
    written_off_minor: int = 0
    recovered_minor: int = 0
    voided: bool = False
    voided_on: date | None = None
    entries: tuple[Entry, ...] = ()

    @property
    def open_minor(self) -> int:
        """total + adjustments - applications + reversals; nothing is owed on a voided invoice."""
        if self.voided:
            return 0
        return (
            self.total_minor
            + self.debits_minor
            - self.credits_minor
            - self.written_off_minor
            - self.applied_minor
            + self.reopened_minor
        )

    def open_on(self, day: date) -> int:
        """What is owed on `day`: nothing before the issue date or from the void's date on."""
        if day < self.issue_date or (self.voided_on is not None and day >= self.voided_on):
            return 0
        return self.total_minor + sum(
            e.amount_minor for e in self.entries if e.effective_date <= day
        )

    def lowest_open_from(self, day: date) -> tuple[int, Entry | None]:
        """The least owed on `day` or any later date, and the later entry that brings it there.

        The balance only moves on an entry's date or the void's, so those are the
        only days to look at. A backdated decrease may take no more than this, or
        some later date would owe less than nothing. The entry is None when `day`
        itself or the void is where it is lowest.
        """
        lowest, by = self.open_on(day), None
        if self.voided_on is not None and self.voided_on > day:
            lowest = 0
        for entry in sorted(self.entries, key=lambda e: e.effective_date):
            if entry.effective_date > day and (owed := self.open_on(entry.effective_date)) < lowest:
                lowest, by = owed, entry
        return lowest, by

    def entries_after(self, day: date) -> list[Entry]:
        """Entries dated after `day`, earliest first."""
        return sorted(
            (e for e in self.entries if e.effective_date > day), key=lambda e: e.effective_date
        )

    @property
    def money_applied(self) -> bool:
        return self.applied_minor > 0

    @property
    def status(self) -> InvoiceStatus:
        if self.voided:
            return InvoiceStatus.VOIDED
        if self.open_minor == 0:
            written_off = self.written_off_minor > self.recovered_minor
            return InvoiceStatus.WRITTEN_OFF if written_off else InvoiceStatus.PAID
        return InvoiceStatus.OPEN


@dataclass(frozen=True)
class Application:
    invoice_id: UUID
    amount_minor: int
    applied_on: date


@dataclass(frozen=True)
class PaymentBalance:
    """A payment and where its money went; what is not applied is the account's credit."""

    payment_id: UUID
    external_id: str
    amount_minor: int
    currency: str
    method: str
    reference: str | None
    received_on: date
    version: int
    applications: tuple[Application, ...] = ()
    reversed: bool = False
    reversed_on: date | None = None

    @property
    def applied_minor(self) -> int:
        return sum(a.amount_minor for a in self.applications)

    @property
    def unapplied_minor(self) -> int:
        return 0 if self.reversed else self.amount_minor - self.applied_minor


@dataclass(frozen=True)
class PayLink:
    """A link made at the payment provider; kept so a payment through it pays what it named."""

    pay_link_id: UUID
    purpose: PayLinkPurpose
    provider: str
    provider_reference: str
    url: str
    expires_at: datetime
    invoice_ids: tuple[UUID, ...]
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class Account:
    version: int = 0
    account_id: UUID | None = None
    external_id: str = ""
    name: str = ""
    contacts: tuple[Contact, ...] = ()
    payment_terms_days: int = 0
    segment: str | None = None
    currency: str = ""
    autopay: AutoPay | None = None
    invoices: Mapping[UUID, InvoiceBalance] = field(default_factory=dict)
    payments: Mapping[UUID, PaymentBalance] = field(default_factory=dict)
    pay_links: Mapping[UUID, PayLink] = field(default_factory=dict)

    @property
    def registered(self) -> bool:
        return self.account_id is not None

    def open_balances(self) -> dict[str, int]:
        """Open balance per currency: one currency is never netted against another."""
        totals: dict[str, int] = {}
        for invoice in self.invoices.values():
            totals[invoice.currency] = totals.get(invoice.currency, 0) + invoice.open_minor
        return totals

    def credits(self) -> dict[str, int]:
        """Unapplied cash per currency."""
        totals: dict[str, int] = {}
        for payment in self.payments.values():
            totals[payment.currency] = totals.get(payment.currency, 0) + payment.unapplied_minor
        return totals

    def open_invoices_oldest_first(self, currency: str) -> list[InvoiceBalance]:
        """The order unspecified cash pays invoices in: earliest due date, then earliest issued."""
        candidates = [
            i for i in self.invoices.values() if i.currency == currency and i.open_minor > 0
        ]
        return sorted(candidates, key=lambda i: (i.due_date, i.issue_date, str(i.invoice_id)))
