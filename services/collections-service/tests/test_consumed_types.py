"""The consumer decodes only the types `on_event` declares: every type its branches (and the
billing view's) tell apart must be declared, or that branch would silently never run."""

from __future__ import annotations

from collections_service import consumers
from collections_service.adapters import billing_view
from collections_service.spec import SPEC
from receivables_devkit.testing.handled_types import contracts_branched_on


def test_the_subscription_declares_every_type_the_handlers_branch_on() -> None:
    (subscription,) = SPEC.subscriptions
    branched = contracts_branched_on(consumers, billing_view)
    assert subscription.event_types is not None
    assert branched - subscription.event_types == set()
    assert {"billing.invoice.issued", "cases.case.opened"} <= branched
