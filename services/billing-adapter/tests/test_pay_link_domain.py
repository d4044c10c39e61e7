"""Pay link terms and settlement in the account aggregate, without IO."""

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from billing_adapter.domain.commands import Allocation, ApplyPayment, RecordPayLink
from billing_adapter.domain.pay_links import settlement, terms
from billing_adapter.testing import ACCOUNT, given, invoice, payment, register, when
from receivables_platform.contracts.billing import PayLinkCreated, PayLinkPurpose
from receivables_platform.domain import RefusalKind, Refused

EXPIRES = datetime(2026, 11, 3, 12, tzinfo=UTC)


def record(state, link_terms, pay_link_id=None) -> RecordPayLink:
    return RecordPayLink(
        account_id=ACCOUNT,
        pay_link_id=pay_link_id or uuid4(),
        terms=link_terms,
        provider="stripe",
        provider_reference="cs_test_1",
        url="https://checkout.example.test/c/1",
        expires_at=EXPIRES,
    )


def test_a_link_records_the_terms_it_was_made_for_once():
    late, early = (
        invoice(external_id="INV-L", due_date=date(2026, 10, 31)),
        invoice(external_id="INV-E", due_date=date(2026, 10, 20)),
    )
    state = given(register(), late, early)
    asked = terms(state, PayLinkPurpose.PAYMENT, None)
    assert asked.invoice_ids == (early.invoice_id, late.invoice_id)
    command = record(state, asked)
    [created] = when(state, command)
    assert isinstance(created, PayLinkCreated) and created.amount_minor == 20_000
    assert when(given(register(), late, early, command), command) == []


def test_a_link_is_not_recorded_when_a_payment_changed_what_is_owed_meanwhile():
    issued, paid = invoice(), payment()
    state = given(register(), issued)
    asked = terms(state, PayLinkPurpose.PAYMENT, None)
    moved = given(
        register(),
        issued,
        paid,
        ApplyPayment(
            account_id=ACCOUNT,
            payment_id=paid.payment_id,
            applied_on=date(2026, 11, 1),
            allocations=(Allocation(issued.invoice_id, 4_000),),
        ),
    )
    with pytest.raises(Refused) as refusal:
        when(moved, record(moved, asked))
    assert refusal.value.kind is RefusalKind.CONFLICT


def test_money_through_a_link_pays_its_invoices_oldest_first_up_to_what_each_owes():
    first, second = (
        invoice(external_id="INV-1", due_date=date(2026, 10, 10)),
        invoice(external_id="INV-2", total_minor=5_000),
    )
    state = given(register(), first, second)
    link = record(state, terms(state, PayLinkPurpose.PAYMENT, None))
    state = given(register(), first, second, link)
    assert settlement(state, link.pay_link_id, 12_000) == (
        Allocation(first.invoice_id, 10_000),
        Allocation(second.invoice_id, 2_000),
    )
    assert settlement(state, link.pay_link_id, 99_000) == (
        Allocation(first.invoice_id, 10_000),
        Allocation(second.invoice_id, 5_000),
    )
