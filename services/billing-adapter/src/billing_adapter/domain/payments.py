"""Decisions about money: record a payment, apply it to invoices, reverse it.

A payment's unapplied remainder is the account's credit, so neither an
invoice's open balance nor the credit can go below zero: an application may
take no more than the payment has left and no more than the invoice owes on
its date and every later one, and only within one currency. Nothing is
applied or reversed before the money arrived.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from billing_adapter.domain.commands import (
    Allocation,
    ApplyPayment,
    RecordPayment,
    ReversePayment,
)
from billing_adapter.domain.dating import not_before_issue
from billing_adapter.domain.invoicing import invoice_of, limited_by
from billing_adapter.domain.state import Account, Entry, PaymentBalance
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import (
    PaymentApplied,
    PaymentReceived,
    PaymentReversed,
    Reopened,
)
from receivables_platform.domain import NotFound, RefusalKind, Refused, require_amount


def record(command: RecordPayment, state: Account) -> list[EventContract]:
    if command.payment_id in state.payments:
        raise Refused(
            f"payment {command.payment_id} is already recorded",
            field="payment_id",
            title="Payment already recorded",
            kind=RefusalKind.CONFLICT,
        )
    require_amount(command.amount_minor, field="amount_minor", what="a payment amount")
    return [
        PaymentReceived(
            payment_id=command.payment_id,
            account_id=command.account_id,
            external_id=command.external_id,
            amount_minor=command.amount_minor,
            currency=command.currency,
            method=command.method,
            reference=command.reference,
            received_on=command.received_on,
        )
    ]


def payment_of(state: Account, command: ApplyPayment | ReversePayment) -> PaymentBalance:
    payment = state.payments.get(command.payment_id)
    if payment is None:
        raise NotFound(
            f"account {state.account_id} has no payment {command.payment_id}", field="payment_id"
        )
    if payment.reversed:
        raise Refused(
            f"payment {payment.payment_id} was reversed",
            field="payment_id",
            title="Payment reversed",
            kind=RefusalKind.CONFLICT,
        )
    return payment


def apply(command: ApplyPayment, state: Account) -> list[EventContract]:
    """Applied on a date, the money pays what the invoice owes then and on every later date."""
    payment = payment_of(state, command)
    if command.applied_on < payment.received_on:
        raise Refused(
            f"applied_on {command.applied_on} is before payment {payment.payment_id} "
            f"was received on {payment.received_on}",
            field="applied_on",
            title="Applied before received",
        )
    if payment.unapplied_minor == 0:
        raise Refused(
            "nothing of this payment is left to apply",
            field="payment_id",
            title="Payment fully applied",
            kind=RefusalKind.CONFLICT,
        )
    allocations = (
        _oldest_first(state, payment, command.applied_on)
        if command.allocations is None
        else _checked(state, payment, command.allocations, command.applied_on)
    )
    return _applications(state, payment, allocations, command.applied_on)


def _checked(
    state: Account, payment: PaymentBalance, allocations: tuple[Allocation, ...], applied_on: date
) -> list[Allocation]:
    """Explicit allocations, each within what its invoice owes and together within the payment."""
    if not allocations:
        raise Refused("give at least one allocation, or none for oldest-first", field="allocations")
    owed: dict[UUID, int] = {}
    limit: dict[UUID, Entry | None] = {}
    for index, allocation in enumerate(allocations):
        where = f"allocations.{index}"
        try:
            invoice = invoice_of(state, allocation.invoice_id)
        except NotFound as missing:
            raise Refused(
                missing.detail, field=f"{where}.invoice_id", title="Unknown invoice"
            ) from None
        if invoice.currency != payment.currency:
            raise Refused(
                f"a {payment.currency} payment cannot pay a {invoice.currency} invoice",
                field=f"{where}.invoice_id",
                title="Currency mismatch",
            )
        if allocation.amount_minor <= 0:
            raise Refused("an applied amount must be positive", field=f"{where}.amount_minor")
        not_before_issue(invoice, applied_on, field=f"{where}.invoice_id")
        if invoice.invoice_id not in owed:
            owed[invoice.invoice_id], limit[invoice.invoice_id] = invoice.lowest_open_from(
                applied_on
            )
        if allocation.amount_minor > owed[invoice.invoice_id]:
            raise Refused(
                f"{allocation.amount_minor} is more than the open balance "
                f"{owed[invoice.invoice_id]}{limited_by(limit[invoice.invoice_id])}",
                field=f"{where}.amount_minor",
                title="Application exceeds open balance",
            )
        owed[invoice.invoice_id] -= allocation.amount_minor
    if sum(a.amount_minor for a in allocations) > payment.unapplied_minor:
        raise Refused(
            f"the allocations are more than the {payment.unapplied_minor} left on the payment",
            field="allocations",
            title="Application exceeds payment",
        )
    return list(allocations)


def _oldest_first(state: Account, payment: PaymentBalance, applied_on: date) -> list[Allocation]:
    """What the customer most likely meant: the invoice due first (and issued by then) first."""
    left, allocations = payment.unapplied_minor, []
    for invoice in state.open_invoices_oldest_first(payment.currency):
        if left == 0:
            break
        if invoice.issue_date > applied_on:
            continue
        amount = min(left, invoice.lowest_open_from(applied_on)[0])
        if amount > 0:
            allocations.append(Allocation(invoice.invoice_id, amount))
            left -= amount
    if not allocations:
        raise Refused(
            f"the account has no open {payment.currency} invoice to apply to",
            field="allocations",
            title="Nothing to apply to",
            kind=RefusalKind.CONFLICT,
        )
    return allocations


def _applications(
    state: Account, payment: PaymentBalance, allocations: list[Allocation], applied_on: date
) -> list[EventContract]:
    """One event per allocation, each stating what its invoice still owes after it."""
    owed: dict[UUID, int] = {}
    events: list[EventContract] = []
    for allocation in allocations:
        invoice_id = allocation.invoice_id
        owed[invoice_id] = (
            owed.get(invoice_id, state.invoices[invoice_id].open_minor) - allocation.amount_minor
        )
        events.append(
            PaymentApplied(
                payment_id=payment.payment_id,
                account_id=payment_account(state),
                invoice_id=invoice_id,
                amount_minor=allocation.amount_minor,
                currency=payment.currency,
                remaining_minor=owed[invoice_id],
                applied_on=applied_on,
            )
        )
    return events


def payment_account(state: Account) -> UUID:
    assert state.account_id is not None, "decide() only reaches here for a registered account"
    return state.account_id


def reverse(command: ReversePayment, state: Account) -> list[EventContract]:
    """Every invoice the payment paid is owed again by what it paid; its credit disappears.

    Dated before an application, the invoice would owe the paid amount twice
    until the application's date, so the reversal must come on or after all of them.
    """
    payment = payment_of(state, command)
    if command.reversed_on < payment.received_on:
        raise Refused(
            f"reversed_on {command.reversed_on} is before payment "
            f"{payment.payment_id} was received on {payment.received_on}",
            field="reversed_on",
            title="Reversed before received",
        )
    last = max(payment.applications, key=lambda a: a.applied_on, default=None)
    if last is not None and last.applied_on > command.reversed_on:
        raise Refused(
            f"reversed_on {command.reversed_on} is before payment "
            f"{payment.payment_id} was applied to invoice {last.invoice_id} on "
            f"{last.applied_on}; date it on or after {last.applied_on}",
            field="reversed_on",
            title="Reversed before applied",
            kind=RefusalKind.CONFLICT,
        )
    paid: dict[UUID, int] = {}
    for application in payment.applications:
        paid[application.invoice_id] = (
            paid.get(application.invoice_id, 0) + application.amount_minor
        )
    return [
        PaymentReversed(
            payment_id=payment.payment_id,
            account_id=command.account_id,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            reason=command.reason,
            reopened=[
                Reopened(invoice_id=invoice_id, amount_minor=amount)
                for invoice_id, amount in paid.items()
            ],
            unapplied_minor=payment.unapplied_minor,
            reversed_on=command.reversed_on,
        )
    ]
