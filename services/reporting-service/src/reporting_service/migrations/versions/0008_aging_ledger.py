"""Aging kept as dated movements, so aging for any date sums a few rows instead of every invoice.

An invoice adds to aging as of D its open balance when that is positive and
it was issued by D (docs/architecture.md#metrics), flagged on hold or in dispute when a
flag covers D. That contribution is a step function of D: it can only change
on the issue date, on a balance change's effective date, or where a flag
starts or ends. `ar_aging_steps` keeps, per invoice, how much each of those
days changes it; aging as of D is then the sum of the steps dated on or
before D, bucketed by the invoice's due date. `ar_aging_by_due_date` holds
the same steps summed per (currency, due date, day), which is all that
totals per currency need: a few rows per due date however many invoices.

Triggers keep both in the transaction of every write to invoices, balance
changes and flags; they and the functions they call are in `reporting_service/sql/`
(functions/ar_aging_restep.sql and its neighbours), applied by the newest migration.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "reporting_service_0008"
down_revision = "reporting_service_0007"
branch_labels = None
depends_on = None

MEASURES = """
    open_minor          bigint  NOT NULL,
    invoices            integer NOT NULL,
    on_hold_minor       bigint  NOT NULL,
    on_hold_invoices    integer NOT NULL,
    in_dispute_minor    bigint  NOT NULL,
    in_dispute_invoices integer NOT NULL"""

SCHEMA = f"""
CREATE TABLE ar_aging_steps (
    invoice_id      uuid NOT NULL,
    effective_date  date NOT NULL,
    account_id      uuid,
    currency        text NOT NULL,
    due_date        date NOT NULL,{MEASURES},
    PRIMARY KEY (invoice_id, effective_date)
);
CREATE INDEX ar_aging_steps_account_idx ON ar_aging_steps (account_id, currency, effective_date)
    INCLUDE (due_date, open_minor, invoices, on_hold_minor, on_hold_invoices, in_dispute_minor,
             in_dispute_invoices);

CREATE TABLE ar_aging_by_due_date (
    currency        text NOT NULL,
    due_date        date NOT NULL,
    effective_date  date NOT NULL,{MEASURES},
    PRIMARY KEY (currency, due_date, effective_date)
);
"""


def upgrade() -> None:
    execute_script(SCHEMA)
