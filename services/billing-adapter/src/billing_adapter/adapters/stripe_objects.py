"""Stripe's API objects read into our commands: the anti-corruption layer's dictionary.

Pure functions over the JSON Stripe sends (event, customer, subscription,
invoice, invoice payment, credit note, charge, dispute). Two generations of
shapes are read, chosen by the event's `api_version`: 2024-06-20 (an invoice
names its `charge` and `payment_intent`) and 2025-03-31.basil and later (it
names neither; `invoice_payment.paid` links an invoice to the PaymentIntent or
charge that paid it, and charges no longer name their invoice). Nothing here
knows our database: the connector (`service_layer/stripe_connector.py`) looks
ids up and decides what to do.

Stripe amounts are integers in the currency's smallest unit and currencies are
lower case; timestamps are Unix seconds, read as business dates in the team's time
zone (`TEAM_TIMEZONE`). A timestamp whose day is outside the business dates (or on no
calendar at all) is the object's fault: the event is refused naming the field, and
nothing of it is booked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from billing_adapter.domain.commands import IssueInvoice, Line
from receivables_platform.business_dates import business_dates
from receivables_platform.contracts.billing import Contact

Obj = Mapping[str, Any]


class MalformedEvent(Exception):
    """The body is not a Stripe event; `field` says which part is missing or wrong."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field, self.detail = field, detail


BASIL = "2025-03-31"
"""The first API version whose invoices no longer say which charge paid them."""


@dataclass(frozen=True)
class StripeEvent:
    id: str
    type: str
    created: datetime
    object: Obj
    previous: Obj
    body: dict[str, Any]
    api_version: str | None = None

    @property
    def invoice_payments_separate(self) -> bool:
        """Whether the payments of an invoice come as `invoice_payment` objects of their own.

        Versions are dated (`2025-03-31.basil`), so they order as text; an event
        with no version is read in the older shapes, which it was made with.
        """
        return self.api_version is not None and self.api_version[:10] >= BASIL

    @property
    def object_id(self) -> str | None:
        value = self.object.get("id")
        return value if isinstance(value, str) else None

    @property
    def day(self) -> date:
        return business_day(self.created, "body.created")


def parse_event(body: Any) -> StripeEvent:
    """The envelope every Stripe event has: `id`, `type`, `created`, `data.object`."""
    if not isinstance(body, dict) or body.get("object") != "event":
        raise MalformedEvent("body", 'not a Stripe event object (object must be "event")')
    for name in ("id", "type"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise MalformedEvent(f"body.{name}", f"{name} must be a non-empty string")
    created = body.get("created")
    if not isinstance(created, int) or isinstance(created, bool):
        raise MalformedEvent("body.created", "created must be Unix seconds")
    try:
        when = instant(created)
    except (OverflowError, OSError, ValueError):
        raise MalformedEvent("body.created", "created is not a time there can be") from None
    data = body.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise MalformedEvent("body.data.object", "data.object must be the Stripe object")
    previous = data.get("previous_attributes")
    version = body.get("api_version")
    return StripeEvent(
        id=body["id"],
        type=body["type"],
        created=when,
        object=data["object"],
        previous=previous if isinstance(previous, dict) else {},
        body=body,
        api_version=version if isinstance(version, str) else None,
    )


def instant(seconds: int, field: str = "body.created") -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedEvent(field, f"{field} ({seconds}) is not a time on the calendar") from None


def business_day(moment: datetime, field: str) -> date:
    """The team's day of a Stripe timestamp (`TEAM_TIMEZONE`), when it is one the platform
    books."""
    settings = business_dates()
    try:
        day = settings.today(moment)
    except OverflowError:  # a zone's offset past 9999-12-31 or before 0001-01-01
        raise MalformedEvent(field, f"{field} is not a time on the calendar") from None
    if not settings.contains(day):
        raise MalformedEvent(
            field,
            f"{field} is on {day}, outside the business dates "
            f"{settings.earliest} to {settings.latest}",
        )
    return day


def day(seconds: Any, default: date, field: str) -> date:
    if seconds is None:
        return default
    return business_day(instant(unix_seconds(seconds, field), field), field)


def unix_seconds(value: Any, field: str) -> int:
    """Stripe's timestamps are whole Unix seconds; `int()` would also read "x" (a refusal
    naming no field), a numeric string, `true` as 1970, or cut a float down to a day."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedEvent(field, f"{field} must be Unix seconds, a whole number")
    return value


def ref(value: Any) -> str | None:
    """An id whether Stripe sent it as a string or expanded it into its object."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


# -- customers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    external_id: str
    name: str
    contacts: tuple[Contact, ...]
    segment: str | None
    currency: str


def _clip(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def customer_profile(customer: Obj, default_currency: str) -> Profile:
    """Name falls back to the email, then the id: Stripe allows a customer with neither.

    A customer's `currency` is null until it is first billed; the account then
    takes the configured default (invoices keep their own currency either way).
    `metadata.segment`, when set in Stripe, becomes the account's segment.
    """
    name, email, phone = (
        _clip(customer.get("name"), 200),
        _clip(customer.get("email"), 320),
        _clip(customer.get("phone"), 40),
    )
    contacts = (Contact(name=name, email=email, phone=phone),) if name or email or phone else ()
    metadata = customer.get("metadata") or {}
    return Profile(
        external_id=str(customer["id"]),
        name=name or email or str(customer["id"]),
        contacts=contacts,
        segment=_clip(metadata.get("segment"), 64),
        currency=str(customer.get("currency") or default_currency).upper(),
    )


_PREFIX_TYPES = {"pm_": "payment_method", "card_": "card", "ba_": "bank_account", "src_": "source"}


def payment_method(value: Any) -> tuple[str, str] | None:
    """(reference, type) of a payment method; only ever the Stripe id, never its details.

    An expanded PaymentMethod says its type (`card`, `us_bank_account`,
    `sepa_debit`...); an id alone is typed by its prefix.
    """
    reference = ref(value)
    if reference is None:
        return None
    if isinstance(value, Mapping) and isinstance(value.get("type"), str):
        return reference, str(value["type"])[:32]
    kind = next((t for p, t in _PREFIX_TYPES.items() if reference.startswith(p)), "stripe")
    return reference, kind


def customer_default_method(customer: Obj) -> tuple[str, str] | None:
    settings = customer.get("invoice_settings") or {}
    return payment_method(settings.get("default_payment_method")) or payment_method(
        customer.get("default_source")
    )


def removed_default_method(previous: Obj) -> str | None:
    """The customer's default method this update removed, from `previous_attributes`."""
    settings = previous.get("invoice_settings")
    if isinstance(settings, Mapping) and settings.get("default_payment_method"):
        return ref(settings["default_payment_method"])
    return ref(previous.get("default_source")) if previous.get("default_source") else None


def subscription_method(subscription: Obj) -> tuple[str, str] | None:
    return payment_method(subscription.get("default_payment_method")) or payment_method(
        subscription.get("default_source")
    )


# -- invoices -------------------------------------------------------------------------------------


def issue_date(invoice: Obj) -> date:
    """When it became an invoice: finalisation (what every later event of it repeats)."""
    transitions = invoice.get("status_transitions") or {}
    field, seconds = next(
        (
            (name, seconds)
            for name, seconds in (
                ("status_transitions.finalized_at", transitions.get("finalized_at")),
                ("effective_at", invoice.get("effective_at")),
            )
            if seconds
        ),
        ("created", invoice["created"]),
    )
    named = f"data.object.{field}"
    return business_day(instant(unix_seconds(seconds, named), named), named)


def tax_of(invoice: Obj) -> int:
    excluding = invoice.get("total_excluding_tax")
    if isinstance(excluding, int):
        return int(invoice["total"]) - excluding
    taxes = invoice.get("total_taxes") or invoice.get("total_tax_amounts") or []
    return sum(int(t.get("amount", 0)) for t in taxes) if taxes else int(invoice.get("tax") or 0)


def _line(item: Obj) -> Line:
    amount = item.get("amount_excluding_tax")
    amount = int(item["amount"] if amount is None else amount)
    quantity = item.get("quantity") or 1
    description = _clip(item.get("description"), 500) or f"Stripe line {item.get('id', '')}"
    if amount % quantity:
        return Line(description, 1, amount)
    return Line(description, quantity, amount // quantity)


def invoice_lines(invoice: Obj, tax: int) -> tuple[Line, ...] | None:
    """Stripe's lines when they add up to the total with the tax; else None (the total alone).

    They do not when a discount applies (lines are before it), when Stripe
    paginated them (`has_more`), or with a negative proration line; the
    invoice total is what is owed, so it wins.
    """
    page = invoice.get("lines") or {}
    items = page.get("data") or []
    if page.get("has_more") or not items:
        return None
    lines = tuple(_line(item) for item in items)
    if any(line.amount_minor < 0 for line in lines):
        return None
    if sum(line.amount_minor for line in lines) + tax != int(invoice["total"]):
        return None
    return lines


def issue_command(invoice: Obj, account_id: UUID, invoice_id: UUID) -> IssueInvoice:
    """Built only from what does not change after finalisation, so every event of it agrees.

    A `charge_automatically` invoice has no due date: it is due when issued.
    """
    issued = issue_date(invoice)
    due = day(invoice.get("due_date"), issued, "data.object.due_date")
    tax = tax_of(invoice)
    return IssueInvoice(
        invoice_id=invoice_id,
        account_id=account_id,
        external_id=str(invoice["id"]),
        total_minor=int(invoice["total"]),
        issue_date=issued,
        currency=str(invoice["currency"]).upper(),
        due_date=max(due, issued),
        lines=invoice_lines(invoice, tax),
        tax_minor=tax,
    )


def invoice_payment_references(invoice: Obj) -> list[str]:
    """Ids the payment of a 2024-06-20 invoice is known by: its charge, then its PaymentIntent.

    Later versions name neither (the `invoice_payment.paid` event does); an
    expanded `payments` list, when an integration fetched one, is read too.
    """
    found = [ref(invoice.get("charge")), ref(invoice.get("payment_intent"))]
    for entry in (invoice.get("payments") or {}).get("data") or []:
        found += associated_payment_references(entry)
    return _distinct(found)


def associated_payment_references(invoice_payment: Obj) -> list[str]:
    """The charge and PaymentIntent an `invoice_payment` names (`payment.type` says which)."""
    payment = invoice_payment.get("payment") or {}
    return _distinct([ref(payment.get("charge")), ref(payment.get("payment_intent"))])


def charge_references(obj: Obj, charge_field: str) -> list[str]:
    """Ids a payment may be known by: the charge first, then its PaymentIntent."""
    return _distinct([ref(obj.get(charge_field)), ref(obj.get("payment_intent"))])


def _distinct(references: list[str | None]) -> list[str]:
    return list(dict.fromkeys(r for r in references if r))


def balance_carried(invoice: Obj) -> int:
    """What the customer's Stripe balance moved into this invoice, in minor units.

    Stripe applies the balance at finalisation: `starting_balance` is the
    customer's balance before (negative: credit the customer holds; positive:
    a debit they owe), `ending_balance` after. Their difference is what the
    invoice took: negative when credit paid part or all of it, positive when
    an earlier debt was added to what it asks for. Zero while a draft
    (`ending_balance` is null until then).
    """
    start, end = invoice.get("starting_balance"), invoice.get("ending_balance")
    if not isinstance(start, int) or not isinstance(end, int):
        return 0
    return start - end


# -- credit notes ---------------------------------------------------------------------------------


def pre_payment_amount(note: Obj) -> int:
    """What a credit note takes off what is owed: the part credited before payment.

    2024-06-20 types the whole note `pre_payment` or `post_payment`; later
    versions split one note into `pre_payment_amount` and `post_payment_amount`.
    Money credited after payment went back to the customer (a refund) or to
    their Stripe balance, and is no receivable.
    """
    pre = note.get("pre_payment_amount")
    if isinstance(pre, int):
        return pre
    return 0 if note.get("type") == "post_payment" else int(note["amount"])


def credit_note_memo(note: Obj) -> str:
    return " ".join(
        str(part) for part in (note.get("number") or note["id"], note.get("memo")) if part
    )[:1000]
