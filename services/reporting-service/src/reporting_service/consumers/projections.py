"""The service's projections: one per topic, each with its own consumer group and tables.

One group per projection means one can be rebuilt (positions forgotten,
tables emptied, topic read again from the start) while the others keep their
place. The billing projection keeps the group named after the service
(docs/architecture.md#names) so positions stored before the split stay valid.
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

# Invoices whose aging steps depend on flags; flags are written by the collections and cases
# projections, so after a swap the steps of every flagged invoice are derived again.
RESTEP_FLAGGED = (
    "SELECT ar_aging_restep(ARRAY(SELECT DISTINCT invoice_id FROM ar_invoice_flags "
    "UNION SELECT invoice_id FROM {retired}.ar_invoice_flags))"
)
# Steps summed under the collector an account had (ar_aging_by_collector): a rebuild's new
# assignments do not re-derive them as they are written, so after the swap every step whose
# collector is no longer the account's is
REGROUP_COLLECTORS = (
    "SELECT ar_aging_restep(ARRAY(SELECT DISTINCT s.invoice_id "
    "FROM ar_aging_steps s LEFT JOIN col_assignments ca "
    "ON ca.account_id = s.account_id "
    "WHERE s.collector_id IS DISTINCT FROM ca.collector_id))"
)
# Credit sales and auto-pay steps summed under the collector an account had
# (ar_sales_by_collector, ar_autopay_by_collector), regrouped after a rebuild of the
# assignments for the same reason
REGROUP_SALES = (
    "SELECT ar_sales_restep(ARRAY(SELECT s.invoice_id "
    "FROM ar_sales_of_invoice s JOIN ar_invoices i ON i.invoice_id = s.invoice_id "
    "LEFT JOIN col_assignments ca ON ca.account_id = i.account_id "
    "WHERE s.collector_id IS DISTINCT FROM ca.collector_id))"
)
REGROUP_AUTOPAY = (
    "SELECT ar_autopay_restep(ARRAY(SELECT DISTINCT s.account_id "
    "FROM ar_autopay_steps s LEFT JOIN col_assignments ca ON ca.account_id = s.account_id "
    "WHERE s.collector_id IS DISTINCT FROM ca.collector_id))"
)
# Who secured each payment past due is credited from the calls and promises, which a
# rebuild's new tables change without crediting anything: after the swap, every one again
RECREDIT_SECURED = (
    "SELECT ar_secured_restep(ARRAY(SELECT DISTINCT account_id FROM ar_past_due_payments))"
)
RESTEP_FLAGGED_NOW = (
    "SELECT ar_aging_restep(ARRAY(SELECT DISTINCT invoice_id FROM ar_invoice_flags))"
)


@dataclass(frozen=True)
class Projection:
    name: str
    subscription: str  # the ServiceSpec subscription name, which gives the consumer group
    topic: str
    handler: Handler
    tables: tuple[str, ...]  # wholly this projection's, with what is derived from them
    shared: tuple[tuple[str, str], ...] = ()  # (table, the predicate of this projection's rows)
    # run once a rebuild's tables are in place, in the swap's transaction; `{retired}` names
    # the schema the replaced tables are in until it commits
    after_swap: tuple[str, ...] = ()

    @property
    def reset_sql(self) -> tuple[str, ...]:
        """Empties exactly the rows this projection wrote."""
        owned = (f"TRUNCATE {', '.join(self.tables)}",) if self.tables else ()
        return owned + tuple(
            f"DELETE FROM {table} WHERE {mine}"  # noqa: S608 - constants
            for table, mine in self.shared
        )


PROJECTIONS = {
    p.name: p
    for p in [
        Projection(
            "billing",
            "default",
            BILLING,
            project_billing_event,
            (
                "ar_invoices",
                "ar_balance_changes",
                "ar_accounts",
                "ar_autopay_history",
                "ar_payments",
                "ar_aging_steps",
                "ar_aging_by_due_date",
                "ar_aging_by_segment",
                "ar_aging_by_collector",
                "ar_aging_by_collector_total",
                "ar_aging_by_collector_book",
                "ar_sales_of_invoice",
                "ar_sales_by_collector",
                "ar_sales_by_collector_total",
                "ar_autopay_steps",
                "ar_autopay_by_collector",
                "ar_past_due_payments",
                "ar_account_contacts",
                "search_name_words",
                "search_words",
            ),
            shared=(("account_timeline", "source = 'billing'"),),
            after_swap=(RESTEP_FLAGGED_NOW,),
        ),
        Projection(
            "collections",
            "collections",
            COLLECTIONS,
            project_collections_event,
            (
                "col_assignments",
                "col_tasks",
                "col_task_due_days",
                "col_contacts",
                "col_commitments",
                "col_autopay_offers",
            ),
            shared=(
                ("escalations", "origin = 'collections'"),
                ("ar_invoice_flags", "flag = 'hold'"),
                ("account_timeline", "source = 'collections'"),
            ),
            after_swap=(
                RESTEP_FLAGGED,
                REGROUP_COLLECTORS,
                REGROUP_SALES,
                REGROUP_AUTOPAY,
                RECREDIT_SECURED,
            ),
        ),
        Projection(
            "cases",
            "cases",
            CASES,
            project_cases_event,
            ("cases", "case_corrections"),
            shared=(
                ("escalations", "origin = 'case'"),
                ("ar_invoice_flags", "flag = 'dispute'"),
                ("account_timeline", "source = 'cases'"),
            ),
            after_swap=(RESTEP_FLAGGED,),
        ),
    ]
}
