"""Analyst views over the billing read model of 0004, and aging as of any date in SQL.

New views are granted to `analyst` by default privileges, so a later
migration's view is readable without repeating the grant. The set-returning
function `reporting.open_invoices_as_of(d)` runs with its owner's rights
(like the views) so analysts get reproducible aging for a past date without
reading the raw tables.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "reporting_service_0005"
down_revision = "reporting_service_0004"
branch_labels = None
depends_on = None

SCHEMA = """
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO analyst;

CREATE OR REPLACE VIEW reporting.invoices AS
SELECT invoice_id, account_id, external_id, currency, total_minor, issue_date, due_date,
       voided_on, written_off_on
FROM public.ar_invoices;
COMMENT ON COLUMN reporting.invoices.voided_on IS 'Business date the invoice was voided, if it was.';
COMMENT ON COLUMN reporting.invoices.written_off_on IS 'Business date the open balance was written off, if it was.';

CREATE OR REPLACE VIEW reporting.invoice_balance_changes AS
SELECT event_id, invoice_id, kind, amount_minor, effective_date, account_id, reference_id, reason
FROM public.ar_balance_changes;
COMMENT ON COLUMN reporting.invoice_balance_changes.kind IS
    'What changed it: adjustment_credit, adjustment_debit, payment (applied), reversal, void, write_off.';
COMMENT ON COLUMN reporting.invoice_balance_changes.account_id IS 'Customer account of the invoice.';
COMMENT ON COLUMN reporting.invoice_balance_changes.reference_id IS 'The payment (payment, reversal) or adjustment id behind the change.';
COMMENT ON COLUMN reporting.invoice_balance_changes.reason IS 'Reason code or text the billing system gave, if any.';

CREATE VIEW reporting.accounts AS
SELECT a.account_id, a.external_id, a.name, a.segment, a.currency, a.payment_terms_days,
       a.collector_id, a.team,
       coalesce((SELECT h.enrolled FROM public.ar_autopay_history h
                 WHERE h.account_id = a.account_id AND h.effective_date <= current_date
                 ORDER BY h.effective_date DESC, h.enrolled ASC LIMIT 1), false) AS on_autopay
FROM public.ar_accounts a;
COMMENT ON VIEW reporting.accounts IS 'Customer accounts as billing registered them, with their collector and auto-pay status today.';
COMMENT ON COLUMN reporting.accounts.account_id IS 'Platform account id (UUIDv7); every event is keyed by it.';
COMMENT ON COLUMN reporting.accounts.external_id IS 'The billing system''s account id.';
COMMENT ON COLUMN reporting.accounts.name IS 'Customer name.';
COMMENT ON COLUMN reporting.accounts.segment IS 'Customer segment (dunning policies and reports group by it); NULL when none.';
COMMENT ON COLUMN reporting.accounts.currency IS 'Account currency, ISO 4217.';
COMMENT ON COLUMN reporting.accounts.payment_terms_days IS 'Payment terms in days from issue.';
COMMENT ON COLUMN reporting.accounts.collector_id IS 'Collector the account is assigned to (from collections), NULL when unassigned.';
COMMENT ON COLUMN reporting.accounts.team IS 'Collections team of that collector, when known.';
COMMENT ON COLUMN reporting.accounts.on_autopay IS 'Enrolled in auto-pay as of today.';

CREATE VIEW reporting.autopay_history AS
SELECT account_id, enrolled, effective_date, method_type, reason FROM public.ar_autopay_history;
COMMENT ON VIEW reporting.autopay_history IS 'Every auto-pay enrolment and cancellation; status as of D is the latest row with effective_date <= D.';
COMMENT ON COLUMN reporting.autopay_history.account_id IS 'Customer account.';
COMMENT ON COLUMN reporting.autopay_history.enrolled IS 'true: enrolled on that date; false: cancelled.';
COMMENT ON COLUMN reporting.autopay_history.effective_date IS 'Business date of the enrolment or cancellation.';
COMMENT ON COLUMN reporting.autopay_history.method_type IS 'Payment method type of an enrolment (card, ach, ...).';
COMMENT ON COLUMN reporting.autopay_history.reason IS 'Cancellation reason, if given.';

CREATE VIEW reporting.payments AS
SELECT payment_id, account_id, external_id, amount_minor, currency, method, received_on,
       reversed_on, reversal_reason
FROM public.ar_payments;
COMMENT ON VIEW reporting.payments IS 'Money received, and whether it came back out (returned, charged back).';
COMMENT ON COLUMN reporting.payments.payment_id IS 'Platform payment id.';
COMMENT ON COLUMN reporting.payments.account_id IS 'Paying account.';
COMMENT ON COLUMN reporting.payments.external_id IS 'The billing system''s payment id.';
COMMENT ON COLUMN reporting.payments.amount_minor IS 'Amount received, minor units.';
COMMENT ON COLUMN reporting.payments.currency IS 'ISO 4217 code.';
COMMENT ON COLUMN reporting.payments.method IS 'card, ach, wire, check, cash, direct_debit or other.';
COMMENT ON COLUMN reporting.payments.received_on IS 'Business date the money arrived.';
COMMENT ON COLUMN reporting.payments.reversed_on IS 'Business date it was reversed, if it was.';
COMMENT ON COLUMN reporting.payments.reversal_reason IS 'returned or chargeback.';

CREATE VIEW reporting.payment_applications AS
SELECT reference_id AS payment_id, invoice_id, account_id, -amount_minor AS amount_minor,
       effective_date AS applied_on
FROM public.ar_balance_changes WHERE kind = 'payment';
COMMENT ON VIEW reporting.payment_applications IS 'Which payment paid which invoice, how much and when.';
COMMENT ON COLUMN reporting.payment_applications.payment_id IS 'The payment applied.';
COMMENT ON COLUMN reporting.payment_applications.invoice_id IS 'The invoice it paid.';
COMMENT ON COLUMN reporting.payment_applications.account_id IS 'Customer account.';
COMMENT ON COLUMN reporting.payment_applications.amount_minor IS 'Amount applied, minor units (positive).';
COMMENT ON COLUMN reporting.payment_applications.applied_on IS 'Business date of the application.';

CREATE VIEW reporting.invoice_flags AS
SELECT invoice_id, account_id, flag, source, since_date, until_date FROM public.ar_invoice_flags;
COMMENT ON VIEW reporting.invoice_flags IS 'Intervals when an invoice was on hold (collections) or in dispute (an open case); aging flags them, never drops them.';
COMMENT ON COLUMN reporting.invoice_flags.invoice_id IS 'Flagged invoice.';
COMMENT ON COLUMN reporting.invoice_flags.account_id IS 'Customer account.';
COMMENT ON COLUMN reporting.invoice_flags.flag IS 'hold or dispute.';
COMMENT ON COLUMN reporting.invoice_flags.source IS 'What set it: the hold or case id.';
COMMENT ON COLUMN reporting.invoice_flags.since_date IS 'First business date flagged.';
COMMENT ON COLUMN reporting.invoice_flags.until_date IS 'First business date no longer flagged; NULL while it lasts.';

CREATE FUNCTION reporting.open_invoices_as_of(as_of date)
RETURNS TABLE (invoice_id uuid, account_id uuid, external_id text, currency text, due_date date,
               open_minor bigint, days_past_due integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
    SELECT i.invoice_id, i.account_id, i.external_id, i.currency, i.due_date,
           (i.total_minor + coalesce(sum(c.amount_minor), 0))::bigint,
           as_of - i.due_date
    FROM public.ar_invoices i
    LEFT JOIN public.ar_balance_changes c
           ON c.invoice_id = i.invoice_id AND c.effective_date <= as_of
    WHERE i.issue_date <= as_of
    GROUP BY i.invoice_id
    HAVING i.total_minor + coalesce(sum(c.amount_minor), 0) > 0
$fn$;
COMMENT ON FUNCTION reporting.open_invoices_as_of(date) IS
    'Invoices with an open balance as of the given date (DESIGN.md section 6), reproducible for any past date.';
REVOKE ALL ON FUNCTION reporting.open_invoices_as_of(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reporting.open_invoices_as_of(date) TO analyst;

GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO analyst;
"""


def upgrade() -> None:
    execute_script(SCHEMA)
