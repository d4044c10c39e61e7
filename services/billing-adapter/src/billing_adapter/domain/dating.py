"""Effective dates: every entry is decided against the history as of its own date.

Billing systems post late: a credit memo dated last week, a chargeback dated
the day the bank returned the money. Reporting ages an invoice as of any day
D from the entries dated by D (docs/architecture.md#metrics), so an entry is only
right if it is right on its own date and on every later one, whatever was
entered before it. Today's balance is the wrong question for a backdated
command, and a date after today is a promise, not a fact: aging would show
the opposite of what billing says until that day comes.

"Today" is given to `decide` by its caller (the team's date, see
`receivables_platform.business_dates`), so the rules stay pure and testable.
"""

from __future__ import annotations

from datetime import date

from billing_adapter.domain.commands import (
    AdjustInvoice,
    ApplyPayment,
    CancelAutoPay,
    Command,
    EnrolAutoPay,
    IssueInvoice,
    RecordPayment,
    ReversePayment,
    VoidInvoice,
    WriteOffInvoice,
)
from billing_adapter.domain.state import InvoiceBalance
from receivables_platform.domain import RefusalKind, Refused

EFFECTIVE_DATE: dict[type, str] = {
    IssueInvoice: "issue_date",
    AdjustInvoice: "effective_date",
    VoidInvoice: "voided_on",
    WriteOffInvoice: "written_off_on",
    RecordPayment: "received_on",
    ApplyPayment: "applied_on",
    ReversePayment: "reversed_on",
    EnrolAutoPay: "enrolled_on",
    CancelAutoPay: "cancelled_on",
}
"""The field that dates each command's entry."""


def not_after_today(command: Command, today: date) -> None:
    field = EFFECTIVE_DATE.get(type(command))
    if field is None:
        return
    day: date = getattr(command, field)
    if day > today:
        raise Refused(
            f"{field} {day} is after today, {today} in the team's time zone; "
            "enter it on the day it happens",
            field=field,
            title="Date in the future",
        )


def not_before_issue(invoice: InvoiceBalance, day: date, *, field: str) -> None:
    if day < invoice.issue_date:
        raise Refused(
            f"{field} {day} is before invoice {invoice.invoice_id} was issued on "
            f"{invoice.issue_date}",
            field=field,
            title="Date before the invoice",
        )


def nothing_later(invoice: InvoiceBalance, day: date, *, field: str, what: str) -> None:
    """A void or write-off zeroes the invoice from its date on, so nothing may be dated after it.

    One amount cannot zero the invoice on every later date when entries dated
    after it still move the balance; the caller must date it on or after them.
    """
    later = invoice.entries_after(day)
    if later:
        last = later[-1]
        raise Refused(
            f"a {what} on {day} is before {len(later)} entr"
            f"{'y' if len(later) == 1 else 'ies'} on invoice {invoice.invoice_id}, "
            f"the last {last.what} on {last.effective_date}; date it on or after "
            f"{last.effective_date}",
            field=field,
            title="Later entries on the invoice",
            kind=RefusalKind.CONFLICT,
        )
