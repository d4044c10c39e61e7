"""What a remembered account state costs every full garbage collection.

The repository remembers thousands of account states; every object in them the
collector tracks is walked by every full collection, with the event loop stopped
(docs/benchmarks.md: 0.3-0.74 s pauses once 5,000 were remembered). Lines and
instalments, which no decision reads, are plain values the collector does not track.
"""

import gc
from datetime import date
from uuid import uuid4

from billing_adapter.api.models import InvoiceResponse
from billing_adapter.domain.commands import DueAmount, Line
from billing_adapter.testing import ACCOUNT, given, invoice, register
from receivables_devkit.testing.tracked import tracked_objects


def _invoice_with_lines_and_instalments(n: int):
    return invoice(
        invoice_id=uuid4(),
        external_id=f"INV-{n}",
        total_minor=10_000,
        lines=(Line("Seats", 4, 2_000), Line("Support", 1, 2_000)),
        instalments=(
            DueAmount(date(2026, 11, 1), 4_000),
            DueAmount(date(2026, 12, 1), 3_000),
            DueAmount(date(2027, 1, 1), 3_000),
        ),
        due_date=None,
    )


def test_an_invoice_adds_two_tracked_objects_to_a_remembered_state_whatever_its_lines():
    state = given(register(), *(_invoice_with_lines_and_instalments(n) for n in range(20)))
    for _ in range(2):  # as a remembered state is seen, after collections untracked what they
        gc.collect()  # can: a tuple once what it holds is untracked, so the outer the next time
    held = tracked_objects(state)
    assert (
        held["InvoiceBalance"] == 20 and held["UUID"] == 21
    )  # the account's id and each invoice's
    assert sum(held.values()) - 40 <= 5, (
        held
    )  # the account, its maps: nothing per line or instalment


def test_an_invoice_still_shows_its_lines_and_instalments():
    state = given(register(), _invoice_with_lines_and_instalments(1))
    [balance] = state.invoices.values()
    shown = InvoiceResponse.of(ACCOUNT, balance)
    assert [
        (x.description, x.quantity, x.unit_price_minor, x.amount_minor) for x in shown.lines
    ] == [
        ("Seats", 4, 2_000, 8_000),
        ("Support", 1, 2_000, 2_000),
    ]
    assert [(x.due_date, x.amount_minor) for x in shown.instalments] == [
        (date(2026, 11, 1), 4_000),
        (date(2026, 12, 1), 3_000),
        (date(2027, 1, 1), 3_000),
    ]
