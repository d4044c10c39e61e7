"""Which topic carries an event type, and which service publishes it.

Event types are named `<context>.<aggregate>.<past tense verb>` and each
bounded context publishes on its own topic (docs/architecture.md#names), so the first
segment of a type is enough to route it; keeping that rule in one place lets
the AsyncAPI document and any producer agree without a second list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BoundedContext:
    name: str
    topic: str
    publisher: str
    title: str


CONTEXTS: tuple[BoundedContext, ...] = (
    BoundedContext(
        "billing",
        "billing.events.v1",
        "billing-adapter",
        "Accounts, invoices, payments, adjustments and auto-pay enrolment as the "
        "billing system has them",
    ),
    BoundedContext(
        "collections",
        "collections.events.v1",
        "collections-service",
        "The collections cadence: tasks, contact attempts, payment commitments, holds",
    ),
    BoundedContext(
        "cases",
        "cases.events.v1",
        "case-service",
        "Receivables cases from first contact to the customer's confirmation",
    ),
)
_BY_NAME = {c.name: c for c in CONTEXTS}


def context_of(event_type: str) -> BoundedContext:
    name = event_type.split(".", 1)[0]
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(
            f"event type {event_type!r} does not start with a bounded context "
            f"({', '.join(sorted(_BY_NAME))})"
        ) from None


def topic_for(event_type: str) -> str:
    return context_of(event_type).topic
