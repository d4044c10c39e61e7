"""Each consumer decodes only the types its handler declares: every type a handler's branches
tell apart must be declared, or that branch would silently never run."""

from __future__ import annotations

from case_service.service_layer import billing_events, collections_events
from case_service.spec import SPEC
from receivables_devkit.testing.handled_types import contracts_branched_on


def test_each_subscription_declares_every_type_its_handler_branches_on() -> None:
    declared = {s.name: s.event_types for s in SPEC.subscriptions}
    for name, module in [("default", billing_events), ("collections", collections_events)]:
        branched = contracts_branched_on(module)
        assert branched, module.__name__
        assert branched - (declared[name] or set()) == set(), name
