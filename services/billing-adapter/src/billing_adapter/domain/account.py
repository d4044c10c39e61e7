"""The customer account aggregate: the one consistency boundary of the billing adapter.

What it owns. An account holds its profile (external id, name, contacts,
payment terms, segment, currency), its auto-pay enrolment, and the balances of
every invoice and payment it has. Invoices and payments are entities inside it,
with their own ids, not aggregates of their own.

Why one aggregate and not three. Every money rule here spans invoices and
payments of one account: an application may not take more than the invoice
owes *and* than the payment has left; oldest-first application needs all open
invoices at once; a reversal reopens several invoices and removes credit in one
step; a void is refused once any payment touched the invoice. Inside one
stream each of those is one decision over one consistent state, checked by one
expected version. Across three streams each would need a multi-stream append
with version checks on streams it does not write to, or a saga. The cost is
that an account's writes are serialised, which matches how billing systems
post an account's ledger anyway, and that the account is folded on load
(accounts hold hundreds of invoices, not millions).

It also gives consumers what they need for free: the stream is the account,
the Kafka key is the account, so `billing.events.v1` carries one account's
history in exactly the order it was decided.

`decide(command, state, today) -> events` refuses with `Refused` naming the field;
`evolve(state, event) -> state` never refuses (events are facts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from billing_adapter.domain import dating, invoicing, pay_links, payments, profile
from billing_adapter.domain.commands import (
    AdjustInvoice,
    ApplyPayment,
    CancelAutoPay,
    Command,
    EnrolAutoPay,
    IssueInvoice,
    RecordPayLink,
    RecordPayment,
    RegisterAccount,
    ReversePayment,
    UpdateAccount,
    VoidInvoice,
    WriteOffInvoice,
)
from billing_adapter.domain.state import (
    Account,
    Application,
    AutoPay,
    Entry,
    InvoiceBalance,
    PayLink,
    PaymentBalance,
    instalment_values,
    line_values,
)
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import (
    AccountRegistered,
    AccountUpdated,
    AdjustmentKind,
    AutoPayCancelled,
    AutoPayEnrolled,
    InvoiceAdjusted,
    InvoiceIssued,
    InvoiceVoided,
    InvoiceWrittenOff,
    PayLinkCreated,
    PaymentApplied,
    PaymentReceived,
    PaymentReversed,
)
from receivables_platform.domain import NotFound

_DECISIONS: dict[type, Callable[[Any, Account], list[EventContract]]] = {
    UpdateAccount: profile.update,
    EnrolAutoPay: profile.enrol_autopay,
    CancelAutoPay: profile.cancel_autopay,
    IssueInvoice: invoicing.issue,
    AdjustInvoice: invoicing.adjust,
    VoidInvoice: invoicing.void,
    WriteOffInvoice: invoicing.write_off,
    RecordPayment: payments.record,
    ApplyPayment: payments.apply,
    ReversePayment: payments.reverse,
    RecordPayLink: pay_links.record,
}


def decide(command: Command, state: Account, today: date) -> list[EventContract]:
    """`today` is the team's date: no entry may be dated after it (see `dating`).

    Every event decided records the command's actor, so no decision needs to
    remember to: a billing event without one is one recorded before it was kept.
    """
    if isinstance(command, RegisterAccount):
        return _acted(profile.register(command, state), command.actor)
    if not state.registered:
        raise NotFound(f"no account {command.account_id}", field="account_id")
    dating.not_after_today(command, today)
    return _acted(_DECISIONS[type(command)](command, state), command.actor)


def _acted(events: list[EventContract], actor: str | None) -> list[EventContract]:
    if actor is None:
        return events
    return [
        e.model_copy(update={"actor": actor})
        if "actor" in type(e).model_fields and getattr(e, "actor", None) is None
        else e
        for e in events
    ]


def evolve(state: Account, event: EventContract) -> Account:
    state = replace(state, version=state.version + 1)
    step = _EVOLUTIONS.get(type(event))
    return state if step is None else step(state, event)


def _registered(state: Account, e: AccountRegistered) -> Account:
    return replace(
        state,
        account_id=e.account_id,
        external_id=e.external_id,
        name=e.name,
        contacts=tuple(e.contacts),
        payment_terms_days=e.payment_terms_days,
        segment=e.segment,
        currency=e.currency,
    )


def _updated(state: Account, e: AccountUpdated) -> Account:
    return replace(
        state,
        name=e.name if e.name is not None else state.name,
        contacts=tuple(e.contacts) if e.contacts is not None else state.contacts,
        payment_terms_days=(
            e.payment_terms_days if e.payment_terms_days is not None else state.payment_terms_days
        ),
        segment=None if e.segment_cleared else (e.segment or state.segment),
    )


def _enrolled(state: Account, e: AutoPayEnrolled) -> Account:
    return replace(
        state, autopay=AutoPay(e.payment_method_reference, e.payment_method_type, e.enrolled_on)
    )


def _cancelled(state: Account, e: AutoPayCancelled) -> Account:
    return replace(state, autopay=None)


def _with_invoice(state: Account, invoice: InvoiceBalance) -> Account:
    invoice = replace(invoice, version=state.version)
    return replace(state, invoices={**state.invoices, invoice.invoice_id: invoice})


def _with_payment(state: Account, payment: PaymentBalance) -> Account:
    payment = replace(payment, version=state.version)
    return replace(state, payments={**state.payments, payment.payment_id: payment})


def _issued(state: Account, e: InvoiceIssued) -> Account:
    return _with_invoice(
        state,
        InvoiceBalance(
            invoice_id=e.invoice_id,
            external_id=e.external_id,
            currency=e.currency,
            total_minor=e.total_minor,
            subtotal_minor=e.subtotal_minor,
            tax_minor=e.tax_minor,
            issue_date=e.issue_date,
            due_date=e.due_date,
            lines=tuple(map(line_values, e.lines)),
            instalments=tuple(map(instalment_values, e.instalments)),
            version=state.version,
        ),
    )


def _entered(invoice: InvoiceBalance, day: date, amount_minor: int, what: str) -> InvoiceBalance:
    return replace(invoice, entries=(*invoice.entries, Entry(day, amount_minor, what)))


def _adjusted(state: Account, e: InvoiceAdjusted) -> Account:
    invoice = state.invoices[e.invoice_id]
    what = f"{e.kind.value} memo {e.adjustment_id}"
    if e.kind is AdjustmentKind.CREDIT:
        invoice = replace(invoice, credits_minor=invoice.credits_minor + e.amount_minor)
        return _with_invoice(state, _entered(invoice, e.effective_date, -e.amount_minor, what))
    recovered = e.amount_minor if e.reason_code == invoicing.WRITE_OFF_RECOVERED else 0
    invoice = replace(
        invoice,
        debits_minor=invoice.debits_minor + e.amount_minor,
        recovered_minor=invoice.recovered_minor + recovered,
    )
    return _with_invoice(state, _entered(invoice, e.effective_date, e.amount_minor, what))


def _voided(state: Account, e: InvoiceVoided) -> Account:
    return _with_invoice(
        state, replace(state.invoices[e.invoice_id], voided=True, voided_on=e.voided_on)
    )


def _written_off(state: Account, e: InvoiceWrittenOff) -> Account:
    invoice = state.invoices[e.invoice_id]
    invoice = replace(invoice, written_off_minor=invoice.written_off_minor + e.amount_minor)
    return _with_invoice(state, _entered(invoice, e.written_off_on, -e.amount_minor, "write-off"))


def _received(state: Account, e: PaymentReceived) -> Account:
    return _with_payment(
        state,
        PaymentBalance(
            payment_id=e.payment_id,
            external_id=e.external_id,
            amount_minor=e.amount_minor,
            currency=e.currency,
            method=e.method,
            reference=e.reference,
            received_on=e.received_on,
            version=state.version,
        ),
    )


def _applied(state: Account, e: PaymentApplied) -> Account:
    payment = state.payments[e.payment_id]
    invoice = state.invoices[e.invoice_id]
    state = _with_payment(
        state,
        replace(
            payment,
            applications=(
                *payment.applications,
                Application(e.invoice_id, e.amount_minor, e.applied_on),
            ),
        ),
    )
    invoice = replace(invoice, applied_minor=invoice.applied_minor + e.amount_minor)
    return _with_invoice(
        state, _entered(invoice, e.applied_on, -e.amount_minor, f"payment {e.payment_id} applied")
    )


def _reversed(state: Account, e: PaymentReversed) -> Account:
    state = _with_payment(
        state, replace(state.payments[e.payment_id], reversed=True, reversed_on=e.reversed_on)
    )
    for reopened in e.reopened:
        invoice = state.invoices[reopened.invoice_id]
        invoice = replace(invoice, reopened_minor=invoice.reopened_minor + reopened.amount_minor)
        state = _with_invoice(
            state,
            _entered(
                invoice, e.reversed_on, reopened.amount_minor, f"payment {e.payment_id} reversed"
            ),
        )
    return state


def _pay_link_created(state: Account, e: PayLinkCreated) -> Account:
    link = PayLink(
        pay_link_id=e.pay_link_id,
        purpose=e.purpose,
        provider=e.provider,
        provider_reference=e.provider_reference,
        url=e.url,
        expires_at=e.expires_at,
        invoice_ids=tuple(e.invoice_ids),
        amount_minor=e.amount_minor,
        currency=e.currency,
    )
    return replace(state, pay_links={**state.pay_links, e.pay_link_id: link})


_EVOLUTIONS: dict[type, Callable[[Account, Any], Account]] = {
    AccountRegistered: _registered,
    AccountUpdated: _updated,
    AutoPayEnrolled: _enrolled,
    AutoPayCancelled: _cancelled,
    InvoiceIssued: _issued,
    InvoiceAdjusted: _adjusted,
    InvoiceVoided: _voided,
    InvoiceWrittenOff: _written_off,
    PaymentReceived: _received,
    PaymentApplied: _applied,
    PaymentReversed: _reversed,
    PayLinkCreated: _pay_link_created,
}
