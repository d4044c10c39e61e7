CREATE OR REPLACE VIEW reporting.open_invoices AS
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
