"""Decisions about invoices: issue, adjust, void, write off.

The open balance may never go below zero, on any date: a credit memo larger
than what is owed on its date or any later one is refused (the surplus would
be a refund, which is the billing system's business, not an adjustment), and
a void is refused once money is applied, because voiding would then leave
paid cash with nothing to pay. Backdated entries are decided as of their own
date (see `dating`).
"""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from billing_adapter.domain.commands import (
    AdjustInvoice,
    DueAmount,
    IssueInvoice,
    Line,
    VoidInvoice,
    WriteOffInvoice,
)
from billing_adapter.domain.dating import not_before_issue, nothing_later
from billing_adapter.domain.state import Account, Entry, InvoiceBalance
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import (
    AdjustmentKind,
    Instalment,
    InvoiceAdjusted,
    InvoiceIssued,
    InvoiceLine,
    InvoiceVoided,
    InvoiceWrittenOff,
)
from receivables_platform.domain import (
    NotFound,
    RefusalKind,
    Refused,
    require_amount,
    require_business_date,
)


def issue(command: IssueInvoice, state: Account) -> list[EventContract]:
    if command.invoice_id in state.invoices:
        raise Refused(
            f"invoice {command.invoice_id} is already issued",
            field="invoice_id",
            title="Invoice already issued",
            kind=RefusalKind.CONFLICT,
        )
    require_amount(command.total_minor, field="total_minor", what="an invoice total")
    lines = _lines(command)
    subtotal = sum(line.amount_minor for line in lines)
    if subtotal + command.tax_minor != command.total_minor:
        raise Refused(
            f"the lines ({subtotal}) plus tax ({command.tax_minor}) make "
            f"{subtotal + command.tax_minor}, not the total {command.total_minor}",
            field="total_minor",
            title="Total does not match the lines",
        )
    instalments = _instalments(command, state)
    return [
        InvoiceIssued(
            invoice_id=command.invoice_id,
            account_id=command.account_id,
            external_id=command.external_id,
            currency=command.currency or state.currency,
            total_minor=command.total_minor,
            issue_date=command.issue_date,
            due_date=instalments[-1].due_date,
            subtotal_minor=subtotal,
            tax_minor=command.tax_minor,
            lines=[
                InvoiceLine(
                    description=line.description,
                    quantity=line.quantity,
                    unit_price_minor=line.unit_price_minor,
                    amount_minor=line.amount_minor,
                )
                for line in lines
            ],
            instalments=[
                Instalment(due_date=i.due_date, amount_minor=i.amount_minor) for i in instalments
            ],
        )
    ]


def _lines(command: IssueInvoice) -> tuple[Line, ...]:
    if not 0 <= command.tax_minor <= command.total_minor:
        raise Refused("tax must be between zero and the total", field="tax_minor")
    if command.lines is None:
        return (Line("Invoice total", 1, command.total_minor - command.tax_minor),)
    if not command.lines:
        raise Refused("an invoice needs at least one line", field="lines")
    return command.lines


def _instalments(command: IssueInvoice, state: Account) -> tuple[DueAmount, ...]:
    """Sorted by due date; the invoice is due when its last instalment is."""
    due = command.due_date
    if command.instalments is None:
        due = due or _after_terms(command.issue_date, state.payment_terms_days)
        schedule: tuple[DueAmount, ...] = (DueAmount(due, command.total_minor),)
    else:
        schedule = tuple(sorted(command.instalments, key=lambda i: i.due_date))
    if not schedule:
        raise Refused("give at least one instalment or none at all", field="instalments")
    if any(i.amount_minor <= 0 for i in schedule):
        raise Refused("every instalment must be a positive amount", field="instalments")
    if sum(i.amount_minor for i in schedule) != command.total_minor:
        raise Refused("the instalments do not add up to the total", field="instalments")
    if due is not None and due != schedule[-1].due_date:
        raise Refused("the due date must be the last instalment's", field="due_date")
    if schedule[0].due_date < command.issue_date:
        raise Refused(
            "the due date is before the issue date",
            field="due_date" if command.instalments is None else "instalments",
        )
    return schedule


def _after_terms(issued: date, days: int) -> date:
    """The due date the terms give; an issue date near 9999-12-31 has none (a typo)."""
    try:
        due = issued + timedelta(days=days)
    except OverflowError:
        raise Refused(
            f"{issued} plus the account's {days} days of terms is past the last "
            "date there is; give the due date",
            field="issue_date",
        ) from None
    require_business_date(
        due, field="issue_date", what=f"the due date ({issued} plus {days} days of terms)"
    )
    return due


def invoice_of(state: Account, invoice_id: UUID) -> InvoiceBalance:
    invoice = state.invoices.get(invoice_id)
    if invoice is None:
        raise NotFound(
            f"account {state.account_id} has no invoice {invoice_id}", field="invoice_id"
        )
    return invoice


def _still_open(invoice: InvoiceBalance) -> None:
    if invoice.voided:
        raise Refused(
            f"invoice {invoice.invoice_id} is voided",
            field="invoice_id",
            title="Invoice voided",
            kind=RefusalKind.CONFLICT,
        )


WRITE_OFF_RECOVERED = "write_off_recovered"
"""The reason of a debit that takes back a write-off because the customer paid after all."""


def adjust(command: AdjustInvoice, state: Account) -> list[EventContract]:
    invoice = invoice_of(state, command.invoice_id)
    _still_open(invoice)
    written_off = invoice.written_off_minor - invoice.recovered_minor
    if command.reason_code == WRITE_OFF_RECOVERED and (
        command.kind is not AdjustmentKind.DEBIT or command.amount_minor > written_off
    ):
        raise Refused(
            f"only a debit of at most the {written_off} still written off can recover a write-off",
            field="amount_minor",
            title="Nothing to recover",
        )
    require_amount(
        command.amount_minor,
        field="amount_minor",
        what="an adjustment amount (the kind gives the direction)",
    )
    if command.currency is not None and command.currency != invoice.currency:
        raise Refused(
            f"the invoice is in {invoice.currency}, not {command.currency}",
            field="currency",
            title="Currency mismatch",
        )
    not_before_issue(invoice, command.effective_date, field="effective_date")
    if command.kind is AdjustmentKind.CREDIT:
        lowest, by = invoice.lowest_open_from(command.effective_date)
        if command.amount_minor > lowest:
            raise Refused(
                f"a credit of {command.amount_minor} on {command.effective_date} is "
                f"more than the open balance {lowest}{limited_by(by)}",
                field="amount_minor",
                title="Credit exceeds open balance",
            )
    return [
        InvoiceAdjusted(
            invoice_id=invoice.invoice_id,
            account_id=command.account_id,
            adjustment_id=command.adjustment_id,
            kind=command.kind,
            amount_minor=command.amount_minor,
            currency=invoice.currency,
            reason_code=command.reason_code,
            case_id=command.case_id,
            memo=command.memo,
            effective_date=command.effective_date,
            actor=command.actor,
            approved_by=command.approved_by,
        )
    ]


def limited_by(entry: Entry | None) -> str:
    """Where a backdated decrease meets its limit: on its own date, or after a later entry."""
    return "" if entry is None else f" on {entry.effective_date}, after {entry.what}"


def void(command: VoidInvoice, state: Account) -> list[EventContract]:
    """The voided amount is what is owed on the void's date, which zeroes it from then on."""
    invoice = invoice_of(state, command.invoice_id)
    _still_open(invoice)
    not_before_issue(invoice, command.voided_on, field="voided_on")
    nothing_later(invoice, command.voided_on, field="voided_on", what="void")
    if invoice.applied_minor > invoice.reopened_minor:
        raise Refused(
            "money is applied to this invoice; reverse or credit it instead",
            field="invoice_id",
            title="Invoice has payments",
            kind=RefusalKind.CONFLICT,
        )
    return [
        InvoiceVoided(
            invoice_id=invoice.invoice_id,
            account_id=command.account_id,
            voided_amount_minor=invoice.open_on(command.voided_on),
            currency=invoice.currency,
            reason=command.reason,
            voided_on=command.voided_on,
            actor=command.actor,
        )
    ]


def write_off(command: WriteOffInvoice, state: Account) -> list[EventContract]:
    """Like a void, the amount is what is owed on its date, so nothing may be dated later."""
    invoice = invoice_of(state, command.invoice_id)
    _still_open(invoice)
    not_before_issue(invoice, command.written_off_on, field="written_off_on")
    nothing_later(invoice, command.written_off_on, field="written_off_on", what="write-off")
    owed = invoice.open_on(command.written_off_on)
    if owed == 0:
        raise Refused(
            "nothing is owed on this invoice",
            field="invoice_id",
            title="Nothing to write off",
            kind=RefusalKind.CONFLICT,
        )
    return [
        InvoiceWrittenOff(
            invoice_id=invoice.invoice_id,
            account_id=command.account_id,
            amount_minor=owed,
            currency=invoice.currency,
            reason_code=command.reason_code,
            written_off_on=command.written_off_on,
            actor=command.actor,
            approved_by=command.approved_by,
        )
    ]
