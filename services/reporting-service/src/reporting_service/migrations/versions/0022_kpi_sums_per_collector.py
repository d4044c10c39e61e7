"""The KPI report reads sums kept per collector, not every invoice and account per request.

The KPI report's AR figures (opening and closing AR, current AR at the close, credit
sales) were computed per request from every invoice and balance change: 4 s per
collector and 16 s per team at a million invoices, which the supervisor's page and
the weekly review waited on. Opening and closing AR are aging as of a day, which
`ar_aging_by_collector` already keeps summed; credit sales are not aging, so
`ar_sales_by_collector` keeps the invoices' totals per collector, currency and issue
date, re-derived at commit with the aging steps (`sql/functions/ar_sales_restep.sql`),
and `ar_sales_of_invoice` records the collector each invoice was summed under so a
reassignment moves it. Existing invoices are summed here.

Auto-pay conversion and penetration read each account's auto-pay history per request
(100-250 ms at 50,000 accounts). `ar_autopay_by_collector` keeps, per collector and
day, how many accounts there are (on -infinity) and how many go on or off auto-pay that
day (`sql/functions/ar_autopay_restep.sql`); `ar_autopay_steps` records each account's
steps and the collector they were summed under. The enrolments of a period are read
from the history by date (a partial index), the offers converted by their date.

Collections secured looked up the invoice of every payment in the period, to know
whether it was past due and in the report's currency. `ar_past_due_payments` keeps
the payments applied after their invoice fell due, with its currency, re-derived at
commit per invoice (`sql/functions/ar_past_due_payments_restep.sql`), with who secured
each within the default 14-day attribution window (`secured_by`), credited again when
an account's calls or promises change (`ar_secured_restep.sql`). Another window meets
the period's contacts and promises, found by their dates, in one join.
"""

from alembic import op

from receivables_platform.db.platform_schema import execute_script
from receivables_platform.db.sql_files import apply_sql_files
from reporting_service.sql import CURRENT

revision = "reporting_service_0022"
down_revision = "reporting_service_0021"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE ar_sales_of_invoice (
    invoice_id    uuid PRIMARY KEY,
    collector_id  text,
    currency      text NOT NULL,
    issue_date    date NOT NULL,
    total_minor   bigint NOT NULL
);
CREATE TABLE ar_sales_by_collector (
    collector_id  text,
    currency      text NOT NULL,
    issue_date    date NOT NULL,
    total_minor   bigint NOT NULL,
    invoices      integer NOT NULL,
    UNIQUE NULLS NOT DISTINCT (collector_id, currency, issue_date)
);
CREATE INDEX ar_sales_by_collector_date_idx ON ar_sales_by_collector (currency, issue_date);
CREATE TABLE ar_sales_by_collector_total (
    collector_id  text,
    currency      text NOT NULL,
    total_minor   bigint NOT NULL,
    invoices      integer NOT NULL,
    UNIQUE NULLS NOT DISTINCT (collector_id, currency)
);
CREATE UNLOGGED TABLE ar_autopay_pending (account_id uuid NOT NULL);
CREATE TABLE ar_autopay_steps (
    account_id    uuid NOT NULL,
    day           date NOT NULL,
    collector_id  text,
    accounts      integer NOT NULL,
    on_autopay    integer NOT NULL,
    PRIMARY KEY (account_id, day)
);
CREATE TABLE ar_autopay_by_collector (
    collector_id  text,
    day           date NOT NULL,
    accounts      integer NOT NULL,
    on_autopay    integer NOT NULL,
    UNIQUE NULLS NOT DISTINCT (collector_id, day)
);
CREATE TABLE ar_past_due_payments (
    event_id        text NOT NULL,
    invoice_id      uuid NOT NULL,
    account_id      uuid,
    reference_id    uuid,
    currency        text NOT NULL,
    effective_date  date NOT NULL,
    amount_minor    bigint NOT NULL,
    secured         boolean NOT NULL,
    secured_by      text,
    PRIMARY KEY (event_id, invoice_id)
);
CREATE INDEX ar_past_due_payments_date_idx ON ar_past_due_payments (currency, effective_date)
    INCLUDE (account_id, reference_id, amount_minor, secured, secured_by);
CREATE INDEX ar_past_due_payments_invoice_idx ON ar_past_due_payments (invoice_id);
CREATE INDEX ar_past_due_payments_account_idx ON ar_past_due_payments (account_id);
CREATE UNLOGGED TABLE ar_secured_pending (account_id uuid NOT NULL);
CREATE INDEX ar_autopay_history_enrolled_idx ON ar_autopay_history (effective_date)
    WHERE enrolled;
CREATE INDEX col_autopay_offers_enrolled_idx ON col_autopay_offers (enrolled_on);
CREATE INDEX col_contacts_date_idx ON col_contacts (business_date);
CREATE INDEX col_commitments_made_idx ON col_commitments (made_on)
"""


def upgrade() -> None:
    execute_script(SCHEMA)
    apply_sql_files(CURRENT)
    op.execute("SELECT ar_sales_restep(ARRAY(SELECT invoice_id FROM ar_invoices))")
    op.execute("SELECT ar_autopay_restep(ARRAY(SELECT account_id FROM ar_accounts))")
    op.execute(
        "SELECT ar_past_due_payments_restep(ARRAY(SELECT DISTINCT invoice_id "
        "FROM ar_balance_changes WHERE kind = 'payment'))"
    )
