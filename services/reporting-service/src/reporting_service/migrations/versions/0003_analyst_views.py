"""The analysts' interface: documented views in schema `reporting`, and a read-only role.

Analysts query views, never the projection tables, so projections can be
rebuilt or reshaped without breaking their SQL. The `analyst` role is a group
role (NOLOGIN): platform teams grant it to their analysts' login roles. Views
run with their owner's rights, so the role needs no access to the raw tables.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "reporting_service_0003"
down_revision = "reporting_service_0002"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS reporting;

CREATE VIEW reporting.invoices AS
SELECT invoice_id, account_id, external_id, currency, total_minor, issue_date, due_date
FROM public.ar_invoices;
COMMENT ON VIEW reporting.invoices IS
    'Every invoice the billing system issued, as projected from billing.events.v1.';
COMMENT ON COLUMN reporting.invoices.invoice_id IS 'Platform invoice id (UUIDv7).';
COMMENT ON COLUMN reporting.invoices.account_id IS 'Customer account the invoice bills.';
COMMENT ON COLUMN reporting.invoices.external_id IS 'The billing system''s own invoice id.';
COMMENT ON COLUMN reporting.invoices.currency IS 'ISO 4217 code; amounts never mix currencies.';
COMMENT ON COLUMN reporting.invoices.total_minor IS 'Invoice total in minor units (cents).';
COMMENT ON COLUMN reporting.invoices.issue_date IS 'Business date the invoice was issued.';
COMMENT ON COLUMN reporting.invoices.due_date IS 'Business date payment is due.';

CREATE VIEW reporting.invoice_balance_changes AS
SELECT event_id, invoice_id, kind, amount_minor, effective_date
FROM public.ar_balance_changes;
COMMENT ON VIEW reporting.invoice_balance_changes IS
    'Dated changes to invoice open balances (adjustments, payments applied, reversals); '
    'open balance as of D = total_minor + sum(amount_minor) with effective_date <= D.';
COMMENT ON COLUMN reporting.invoice_balance_changes.event_id IS 'CloudEvents id of the source event.';
COMMENT ON COLUMN reporting.invoice_balance_changes.invoice_id IS 'Invoice whose balance changed.';
COMMENT ON COLUMN reporting.invoice_balance_changes.kind IS 'What changed it: adjustment, payment, reversal, void, write_off.';
COMMENT ON COLUMN reporting.invoice_balance_changes.amount_minor IS 'Signed effect on the open balance, minor units.';
COMMENT ON COLUMN reporting.invoice_balance_changes.effective_date IS 'Business date the change takes effect.';

CREATE VIEW reporting.open_invoices AS
SELECT i.invoice_id, i.account_id, i.external_id, i.currency, i.due_date,
       i.total_minor + coalesce(sum(c.amount_minor), 0) AS open_minor,
       current_date - i.due_date AS days_past_due
FROM public.ar_invoices i
LEFT JOIN public.ar_balance_changes c
       ON c.invoice_id = i.invoice_id AND c.effective_date <= current_date
WHERE i.issue_date <= current_date
GROUP BY i.invoice_id
HAVING i.total_minor + coalesce(sum(c.amount_minor), 0) > 0;
COMMENT ON VIEW reporting.open_invoices IS
    'Invoices with an open balance today, with days past due (<= 0 is current). '
    'For another as-of date, compute from reporting.invoices and reporting.invoice_balance_changes.';
COMMENT ON COLUMN reporting.open_invoices.invoice_id IS 'Platform invoice id.';
COMMENT ON COLUMN reporting.open_invoices.account_id IS 'Customer account.';
COMMENT ON COLUMN reporting.open_invoices.external_id IS 'The billing system''s invoice id.';
COMMENT ON COLUMN reporting.open_invoices.currency IS 'ISO 4217 code.';
COMMENT ON COLUMN reporting.open_invoices.due_date IS 'Business date payment is due.';
COMMENT ON COLUMN reporting.open_invoices.open_minor IS 'Open balance today, minor units.';
COMMENT ON COLUMN reporting.open_invoices.days_past_due IS 'Today minus the due date, in days.';

-- one line: the script is split into statements at a semicolon ending a line
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'analyst') THEN CREATE ROLE analyst NOLOGIN; END IF; END $$;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM analyst;
GRANT USAGE ON SCHEMA reporting TO analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO analyst;
"""


def upgrade() -> None:
    execute_script(SCHEMA)
