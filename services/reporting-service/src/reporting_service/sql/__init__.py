"""The reporting database's functions, triggers and analyst views: one file each, holding
its current definition (`receivables_platform.db.sql_files`).

A change to one of them edits its file and adds a migration that reapplies `CURRENT`;
the migrations that created the tables never define these objects themselves, so no
older definition is left to read. `CURRENT` is in dependency order: a trigger after its
function, a view after the functions it calls.
"""

from pathlib import Path

HERE = Path(__file__).parent

FUNCTIONS = (
    "ar_open_instalments",
    "ar_aging_steps_of",
    "ar_aging_restep",
    "ar_sales_restep",
    "ar_secured_by",
    "ar_past_due_payments_restep",
    "ar_autopay_restep",
    "ar_secured_restep",
    "ar_aging_follow",
    "ar_autopay_follow",
    "ar_secured_follow",
    "ar_aging_plan_for",
    "ar_aging_at_commit",
    "ar_aging_follow_accounts",
    "ar_aging_follow_assignments",
    "open_invoices_as_of",
)
TRIGGERS = (
    "ar_invoices_aging",
    "ar_balance_changes_aging",
    "ar_invoice_flags_aging",
    "ar_aging_commits_restep",
    "ar_accounts_aging",
    "col_assignments_aging",
    "ar_autopay_follow",
    "ar_secured_follow",
)

# the analysts' interface (schema `reporting`): each view and column carries its COMMENT
VIEWS = (
    "invoices",
    "invoice_balance_changes",
    "open_invoices",
    "accounts",
    "autopay_history",
    "payments",
    "payment_applications",
    "invoice_flags",
    "tasks",
    "task_due_days",
    "contacts",
    "commitments",
    "autopay_offers",
    "escalations",
    "cases",
    "collector_teams",
    "aging_snapshots",
    "aging_movements",
    "set_aside_events",
)

CURRENT = (
    *(HERE / "functions" / f"{name}.sql" for name in FUNCTIONS),
    *(HERE / "triggers" / f"{name}.sql" for name in TRIGGERS),
    *(HERE / "views" / f"{name}.sql" for name in VIEWS),
)

# A table the current definitions write that came after migration 0019, which applies them
# and steps the invoices then unstepped: 0019 makes it (empty) so that step can run, and
# the migration that introduced it (0021) fills it from the sums there are.
COLLECTOR_BOOK = """
CREATE TABLE IF NOT EXISTS ar_aging_by_collector_book (
    collector_id         text,
    currency             text NOT NULL,
    open_minor           bigint NOT NULL,
    invoices             integer NOT NULL,
    on_hold_minor        bigint NOT NULL,
    on_hold_invoices     integer NOT NULL,
    in_dispute_minor     bigint NOT NULL,
    in_dispute_invoices  integer NOT NULL,
    UNIQUE NULLS NOT DISTINCT (collector_id, currency)
)
"""
