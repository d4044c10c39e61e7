"""Pay links: what a link asks the customer to pay, and where money paid through it goes.

A payment link is made for the account's open invoices (or the ones named),
at what they are open for at that moment, in one currency: a provider's
checkout takes one amount in one currency. The terms are decided here before
the provider is asked, and decided again when its answer is recorded, so a
link is never recorded for money the account no longer owes. An auto-pay link
asks for nothing: the customer saves a payment method.

Money that comes back through a link pays the invoices the link named, oldest
first, up to what each still owes; what is left (they were paid some other
way meanwhile) stays on the account as credit, as any overpayment does.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from billing_adapter.domain.commands import Allocation, PayLinkTerms, RecordPayLink
from billing_adapter.domain.state import Account, InvoiceBalance
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import PayLinkCreated, PayLinkPurpose
from receivables_platform.domain import NotFound, RefusalKind, Refused

MAX_INVOICES = 100
"""A checkout lists what it pays; more invoices than this is a statement, not a link."""


def terms(
    state: Account, purpose: PayLinkPurpose, invoice_ids: Sequence[UUID] | None
) -> PayLinkTerms:
    """What a new link for `state` would ask; refused when there is nothing it could ask."""
    if purpose is PayLinkPurpose.AUTOPAY:
        return _autopay_terms(state, invoice_ids)
    invoices = _open_invoices(state) if invoice_ids is None else _named_invoices(state, invoice_ids)
    currencies = sorted({i.currency for i in invoices})
    if len(currencies) > 1:
        raise Refused(
            f"the open invoices are in {', '.join(currencies)}; a link is paid in one "
            "currency: name the invoices of one",
            field="invoice_ids",
            title="Several currencies",
        )
    ordered = sorted(invoices, key=lambda i: (i.due_date, i.issue_date, str(i.invoice_id)))
    return PayLinkTerms(
        purpose=purpose,
        invoice_ids=tuple(i.invoice_id for i in ordered),
        amount_minor=sum(i.open_minor for i in ordered),
        currency=currencies[0],
    )


def _autopay_terms(state: Account, invoice_ids: Sequence[UUID] | None) -> PayLinkTerms:
    if invoice_ids is not None:
        raise Refused(
            "an auto-pay enrolment link pays no invoices; leave invoice_ids out",
            field="invoice_ids",
        )
    if state.autopay is not None:
        raise Refused(
            "the account is already enrolled in auto-pay",
            field="purpose",
            title="Already enrolled",
            kind=RefusalKind.CONFLICT,
        )
    return PayLinkTerms(
        purpose=PayLinkPurpose.AUTOPAY, invoice_ids=(), amount_minor=0, currency=state.currency
    )


def _open_invoices(state: Account) -> list[InvoiceBalance]:
    invoices = [i for i in state.invoices.values() if i.open_minor > 0]
    if not invoices:
        raise Refused(
            f"account {state.account_id} owes nothing: there is nothing to pay",
            field="account_id",
            title="Nothing to pay",
            kind=RefusalKind.CONFLICT,
        )
    if len(invoices) > MAX_INVOICES:
        raise Refused(
            f"the account has {len(invoices)} open invoices; name at most {MAX_INVOICES}",
            field="invoice_ids",
        )
    return invoices


def _named_invoices(state: Account, invoice_ids: Sequence[UUID]) -> list[InvoiceBalance]:
    if not invoice_ids:
        raise Refused(
            "name at least one invoice, or leave invoice_ids out for every open one",
            field="invoice_ids",
        )
    if len(invoice_ids) > MAX_INVOICES:
        raise Refused(f"name at most {MAX_INVOICES} invoices", field="invoice_ids")
    if len(set(invoice_ids)) != len(invoice_ids):
        raise Refused("an invoice is named twice", field="invoice_ids")
    named = []
    for n, invoice_id in enumerate(invoice_ids):
        invoice = state.invoices.get(invoice_id)
        if invoice is None:
            raise NotFound(
                f"account {state.account_id} has no invoice {invoice_id}", field=f"invoice_ids.{n}"
            )
        if invoice.open_minor <= 0:
            raise Refused(
                f"invoice {invoice_id} owes nothing",
                field=f"invoice_ids.{n}",
                title="Nothing to pay",
                kind=RefusalKind.CONFLICT,
            )
        named.append(invoice)
    return named


def record(command: RecordPayLink, state: Account) -> list[EventContract]:
    """The link the provider made, if its terms still hold; the same link again is a no-op."""
    if command.pay_link_id in state.pay_links:
        return []
    asked = command.terms
    now = terms(
        state, asked.purpose, None if asked.purpose is PayLinkPurpose.AUTOPAY else asked.invoice_ids
    )
    if now != asked:
        raise Refused(
            "the account's open invoices changed while the link was being made; ask for a new link",
            field="invoice_ids",
            title="Account changed",
            kind=RefusalKind.CONFLICT,
        )
    return [
        PayLinkCreated(
            account_id=command.account_id,
            pay_link_id=command.pay_link_id,
            purpose=asked.purpose,
            provider=command.provider,
            provider_reference=command.provider_reference,
            url=command.url,
            expires_at=command.expires_at,
            invoice_ids=list(asked.invoice_ids),
            amount_minor=asked.amount_minor,
            currency=asked.currency,
        )
    ]


def settlement(state: Account, pay_link_id: UUID, amount_minor: int) -> tuple[Allocation, ...]:
    """Where `amount_minor` paid through the link goes: its invoices, oldest first."""
    link = state.pay_links[pay_link_id]
    allocations, left = [], amount_minor
    for invoice_id in link.invoice_ids:
        owed = state.invoices[invoice_id].open_minor
        if left <= 0:
            break
        if owed > 0:
            allocations.append(Allocation(invoice_id, min(owed, left)))
            left -= min(owed, left)
    return tuple(allocations)
