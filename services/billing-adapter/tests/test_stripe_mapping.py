"""Pure parts of the Stripe connector: the signature check and reading Stripe's objects."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest

from billing_adapter.adapters.stripe_objects import (
    MalformedEvent,
    associated_payment_references,
    balance_carried,
    charge_references,
    customer_default_method,
    customer_profile,
    invoice_payment_references,
    issue_command,
    parse_event,
    payment_method,
    pre_payment_amount,
    removed_default_method,
)
from billing_adapter.adapters.stripe_signature import SignatureError, verify
from billing_adapter.stripe_samples import (
    NOW,
    basil_charge,
    basil_credit_note,
    basil_event,
    basil_invoice,
    basil_invoice_payment,
    credit_note,
    customer,
    event,
    invoice,
    published,
    sign,
    stripe_id,
)

PAYLOAD = json.dumps({"id": "evt_1", "object": "event"}).encode()


def test_a_signature_from_any_configured_secret_over_the_exact_bytes_passes():
    header = sign(PAYLOAD, "whsec_a", timestamp=NOW)
    assert verify(PAYLOAD, header, ["whsec_b", "whsec_a"], now=NOW + 299) == NOW
    two = sign(PAYLOAD, "whsec_old", "whsec_new", timestamp=NOW)
    assert verify(PAYLOAD, two, ["whsec_new"], now=NOW) == NOW


@pytest.mark.parametrize(
    ("header", "secrets", "now", "why"),
    [
        (sign(PAYLOAD, "whsec_a", timestamp=NOW), ["whsec_b"], NOW, "no v1 signature matches"),
        (
            sign(PAYLOAD + b" ", "whsec_a", timestamp=NOW),
            ["whsec_a"],
            NOW,
            "no v1 signature matches",
        ),
        (sign(PAYLOAD, "whsec_a", timestamp=NOW), ["whsec_a"], NOW + 301, "from now"),
        (sign(PAYLOAD, "whsec_a", timestamp=NOW), ["whsec_a"], NOW - 301, "from now"),
        (None, ["whsec_a"], NOW, "missing"),
        (f"v1={'0' * 64}", ["whsec_a"], NOW, "no timestamp"),
        (f"t={NOW}", ["whsec_a"], NOW, "no v1"),
        (f"t=x,v1={'0' * 64}", ["whsec_a"], NOW, "not a number"),
    ],
    ids=[
        "other-secret",
        "altered-body",
        "too-new",
        "too-old",
        "missing",
        "no-timestamp",
        "no-v1",
        "timestamp-not-a-number",
    ],
)  # fixed ids: every xdist worker collects alike
def test_forged_stale_or_broken_signatures_are_refused(header, secrets, now, why):
    with pytest.raises(SignatureError, match=why):
        verify(PAYLOAD, header, secrets, now=now)


def test_a_signature_made_with_the_timestamp_changed_does_not_pass():
    header = sign(PAYLOAD, "whsec_a", timestamp=NOW - 3600)
    moved = header.replace(f"t={NOW - 3600}", f"t={NOW}")
    with pytest.raises(SignatureError, match="no v1 signature matches"):
        verify(PAYLOAD, moved, ["whsec_a"], now=NOW)


def test_an_event_needs_its_envelope():
    parsed = parse_event(event("customer.created", customer("cus_1"), created=NOW))
    assert (parsed.type, parsed.object_id, parsed.created.timestamp()) == (
        "customer.created",
        "cus_1",
        NOW,
    )
    for broken, field in (
        ([], "body"),
        ({**event("x", {}), "created": "today"}, "body.created"),
        ({**event("x", {}), "type": None}, "body.type"),
    ):
        with pytest.raises(MalformedEvent) as caught:
            parse_event(broken)
        assert caught.value.field == field


def test_a_customer_without_name_or_currency_still_makes_an_account():
    profile = customer_profile(customer("cus_2", name=None, phone=None, currency=None), "EUR")
    assert (profile.name, profile.currency, profile.contacts[0].email) == (
        "billing@acme.test",
        "EUR",
        "billing@acme.test",
    )
    bare = customer_profile(customer("cus_3", name=None, email=None, phone=None), "USD")
    assert (bare.name, bare.contacts) == ("cus_3", ())


def test_payment_methods_are_references_with_a_type():
    assert payment_method("pm_123") == ("pm_123", "payment_method")
    assert payment_method("card_123") == ("card_123", "card")
    assert payment_method(
        {
            "id": "pm_9",
            "object": "payment_method",
            "type": "sepa_debit",
            "sepa_debit": {"last4": "3000"},
        }
    ) == ("pm_9", "sepa_debit")
    assert payment_method(None) is None
    assert customer_default_method(customer("cus_4", default_payment_method="pm_5")) == (
        "pm_5",
        "payment_method",
    )
    assert (
        removed_default_method({"invoice_settings": {"default_payment_method": "pm_5"}}) == "pm_5"
    )
    assert removed_default_method({"name": "Old"}) is None


def test_an_invoice_reads_as_the_same_command_from_every_event_about_it():
    invoice_id, account_id = stripe_id("in"), uuid4()
    finalized_at = int(NOW - 5 * 86400)
    open_ = issue_command(
        invoice(invoice_id, "cus_1", finalized_at=finalized_at), account_id, uuid4()
    )
    paid = issue_command(
        invoice(invoice_id, "cus_1", finalized_at=finalized_at, status="paid", charge="ch_1"),
        account_id,
        uuid4(),
    )
    assert (open_.total_minor, open_.tax_minor, open_.issue_date, open_.due_date, open_.lines) == (
        paid.total_minor,
        paid.tax_minor,
        paid.issue_date,
        paid.due_date,
        paid.lines,
    )
    assert open_.currency == "USD"
    assert (open_.due_date - open_.issue_date).days == 30


def test_lines_that_do_not_add_up_give_way_to_the_total():
    discounted = issue_command(invoice("in_1", "cus_1", discount=500), uuid4(), uuid4())
    assert (discounted.total_minor, discounted.lines) == (10_500, None)
    paged = invoice("in_2", "cus_1")
    paged["lines"]["has_more"] = True
    assert issue_command(paged, uuid4(), uuid4()).lines is None
    uneven = issue_command(
        invoice("in_3", "cus_1", lines=[("Usage", 3, 1_000)], tax=0), uuid4(), uuid4()
    )
    assert uneven.lines is not None
    assert [(x.quantity, x.unit_price_minor) for x in uneven.lines] == [(1, 1_000)]


def test_the_payment_of_a_2024_invoice_is_its_charge_and_payment_intent():
    assert invoice_payment_references(
        invoice("in_1", "cus_1", charge="ch_1", payment_intent="pi_1")
    ) == ["ch_1", "pi_1"]
    assert invoice_payment_references(invoice("in_1", "cus_1")) == []


@pytest.mark.parametrize(
    ("version", "separate"),
    [
        ("2024-06-20", False),
        (None, False),
        ("2025-02-24.acacia", False),
        ("2025-03-31.basil", True),
        ("2025-09-30.clover", True),
        ("2026-11-17.dahlia", True),
    ],
)
def test_the_api_version_decides_how_invoice_payments_are_told(version, separate):
    body = basil_event("invoice.paid", basil_invoice("in_1", "cus_1"), api_version=version)
    assert parse_event(body).invoice_payments_separate is separate


def test_stripes_published_current_objects_read():
    """Stripe's own fixtures, as published: a basil invoice issues; its ids are read."""
    issued = issue_command(published("invoice", status="open", ending_balance=0), uuid4(), uuid4())
    assert (issued.total_minor, issued.currency, issued.tax_minor) == (1_000, "USD", 0)
    assert associated_payment_references(
        basil_invoice_payment("in_1", amount=5, payment_intent="pi_1")
    ) == ["pi_1"]
    assert associated_payment_references(
        basil_invoice_payment("in_1", amount=5, charge="ch_1")
    ) == ["ch_1"]
    charge = basil_charge("ch_1", "cus_1", amount=100, payment_intent="pi_1", amount_refunded=100)
    assert "invoice" not in charge  # basil: a charge no longer names its invoice
    assert charge_references(charge, "id") == ["ch_1", "pi_1"]


@pytest.mark.parametrize(
    ("starting", "carried"), [(0, 0), (-5_000, -5_000), (-20_000, -11_000), (3_000, 3_000)]
)
def test_the_customer_balance_an_invoice_took(starting, carried):
    assert balance_carried(basil_invoice("in_1", "cus_1", starting_balance=starting)) == carried
    assert balance_carried({**basil_invoice("in_1", "cus_1"), "ending_balance": None}) == 0


def test_what_a_credit_note_took_off_before_payment_in_either_version():
    assert pre_payment_amount(credit_note("in_1", "cus_1", amount=700)) == 700
    assert pre_payment_amount(credit_note("in_1", "cus_1", amount=700, type_="post_payment")) == 0
    assert (
        pre_payment_amount(basil_credit_note("in_1", "cus_1", pre_payment=300, post_payment=400))
        == 300
    )
