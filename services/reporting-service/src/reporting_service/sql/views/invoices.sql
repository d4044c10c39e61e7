CREATE OR REPLACE VIEW reporting.invoices AS
SELECT invoice_id, account_id, external_id, currency, total_minor, issue_date, due_date,
       voided_on, written_off_on
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
COMMENT ON COLUMN reporting.invoices.voided_on IS 'Business date the invoice was voided, if it was.';
COMMENT ON COLUMN reporting.invoices.written_off_on IS 'Business date the open balance was written off, if it was.';
