"""The service's projections: one per topic, each with its own consumer group and tables.

One group per projection means one can be rebuilt (positions forgotten,
tables emptied, topic read again from the start) while the others keep their
place. The billing projection keeps the group named after the service
(DESIGN.md section 8) so positions stored before the split stay valid.
"""

from __future__ import annotations

from dataclasses import dataclass

from receivables_platform.consumer import Handler
from receivables_platform.contracts.billing import TOPIC as BILLING
from receivables_platform.contracts.cases import TOPIC as CASES
from receivables_platform.contracts.collections import TOPIC as COLLECTIONS
from reporting_service.consumers.billing_projection import project_billing_event
from reporting_service.consumers.cases_projection import project_cases_event
from reporting_service.consumers.collections_projection import project_collections_event


@dataclass(frozen=True)
class Projection:
    name: str
    subscription: str  # the ServiceSpec subscription name, which gives the consumer group
    topic: str
    handler: Handler
    reset_sql: tuple[str, ...]  # empties exactly the rows this projection wrote


PROJECTIONS = {p.name: p for p in [
    Projection("billing", "default", BILLING, project_billing_event, (
        "TRUNCATE ar_invoices, ar_balance_changes, ar_accounts, ar_autopay_history, "
        "ar_payments, ar_aging_steps, ar_aging_by_due_date",)),
    Projection("collections", "collections", COLLECTIONS, project_collections_event, (
        "TRUNCATE col_assignments, col_tasks, col_task_due_days, col_contacts, "
        "col_commitments, col_autopay_offers",
        "DELETE FROM escalations WHERE origin = 'collections'",
        "DELETE FROM ar_invoice_flags WHERE flag = 'hold'")),
    Projection("cases", "cases", CASES, project_cases_event, (
        "TRUNCATE cases",
        "DELETE FROM escalations WHERE origin = 'case'",
        "DELETE FROM ar_invoice_flags WHERE flag = 'dispute'")),
]}
