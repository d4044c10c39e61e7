"""Documentation completeness: what a well-documented case has, computed from its state.

A case is documented when someone who never saw it can tell what the customer
asked, what was looked at, why it happened, what was done, what the customer
was told and that they agreed. A linked invoice is only asked of the types
that are about money billed.
"""

from __future__ import annotations

from case_service.domain.state import Case
from receivables_platform.contracts.cases import (
    BILLING_CASE_TYPES,
    ChecklistEntry,
    ChecklistItem,
    Completeness,
    NoteSource,
)


def completeness(case: Case) -> Completeness:
    satisfied = {
        ChecklistItem.PROBLEM_STATEMENT: bool(case.description.strip()),
        ChecklistItem.INVESTIGATION_NOTE: any(
            n.source is NoteSource.AGENT and n.body.strip() for n in case.notes
        ),
        ChecklistItem.ROOT_CAUSE: case.root_cause is not None,
        ChecklistItem.RESOLUTION_SUMMARY: bool(case.resolution_summary),
        ChecklistItem.CUSTOMER_UPDATE: bool(case.updates),
        ChecklistItem.CUSTOMER_CONFIRMATION: case.confirmation is not None,
        ChecklistItem.LINKED_INVOICE: bool(case.invoice_ids),
    }
    entries = [
        ChecklistEntry(
            item=item,
            satisfied=done,
            required=item is not ChecklistItem.LINKED_INVOICE or case.type in BILLING_CASE_TYPES,
        )
        for item, done in satisfied.items()
    ]
    required = [e for e in entries if e.required]
    done = sum(e.satisfied for e in required)
    return Completeness(
        entries=entries,
        complete=done == len(required),
        satisfied_count=done,
        required_count=len(required),
    )
