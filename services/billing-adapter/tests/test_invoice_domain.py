"""Given events, when a command, then events: the invoice aggregate without IO."""

from datetime import date
from uuid import uuid4

import pytest

from billing_adapter.domain.invoice import Invoice, IssueInvoice, decide, evolve
from receivables_platform.contracts.billing import InvoiceIssued
from receivables_platform.domain import Refused, fold


def issue(**overrides: object) -> IssueInvoice:
    values: dict[str, object] = dict(
        invoice_id=uuid4(), account_id=uuid4(), external_id="INV-1", currency="USD",
        total_minor=12_500, issue_date=date(2026, 10, 1), due_date=date(2026, 10, 31))
    values.update(overrides)
    return IssueInvoice(**values)  # type: ignore[arg-type]


def test_issuing_a_new_invoice_emits_invoice_issued():
    command = issue()
    [event] = decide(command, Invoice())
    assert isinstance(event, InvoiceIssued)
    assert (event.invoice_id, event.total_minor, event.due_date) == (
        command.invoice_id, 12_500, date(2026, 10, 31))


def test_an_issued_invoice_cannot_be_issued_again():
    command = issue()
    state = fold(evolve, Invoice(), decide(command, Invoice()))
    assert state.version == 1 and state.issued
    with pytest.raises(Refused) as refusal:
        decide(command, state)
    assert refusal.value.status == 409


@pytest.mark.parametrize(("overrides", "field"), [
    ({"total_minor": 0}, "total_minor"),
    ({"total_minor": -5}, "total_minor"),
    ({"due_date": date(2026, 9, 30)}, "due_date"),
])
def test_invalid_invoices_are_refused_naming_the_field(overrides: dict[str, object], field: str):
    with pytest.raises(Refused) as refusal:
        decide(issue(**overrides), Invoice())
    assert refusal.value.field == field
