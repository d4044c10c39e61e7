"""AR read model: invoices and the dated changes to their open balance.

Balances are kept as dated changes rather than a running total so aging can be
answered for any as-of date, past or present.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "reporting_service_0002"
down_revision = "reporting_service_0001"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE ar_invoices (
    invoice_id      uuid PRIMARY KEY,
    account_id      uuid,
    external_id     text,
    currency        text,
    total_minor     bigint,
    issue_date      date,
    due_date        date,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ar_invoices_account_idx ON ar_invoices (account_id);
CREATE INDEX ar_invoices_issue_date_idx ON ar_invoices (issue_date);

CREATE TABLE ar_balance_changes (
    event_id        text PRIMARY KEY,
    invoice_id      uuid   NOT NULL,
    kind            text   NOT NULL,
    amount_minor    bigint NOT NULL,
    effective_date  date   NOT NULL
);
CREATE INDEX ar_balance_changes_invoice_idx ON ar_balance_changes (invoice_id, effective_date);
"""


def upgrade() -> None:
    execute_script(SCHEMA)
