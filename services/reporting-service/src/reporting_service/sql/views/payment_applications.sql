CREATE OR REPLACE VIEW reporting.payment_applications AS
SELECT reference_id AS payment_id, invoice_id, account_id, -amount_minor AS amount_minor,
       effective_date AS applied_on
FROM public.ar_balance_changes WHERE kind = 'payment';
COMMENT ON VIEW reporting.payment_applications IS 'Which payment paid which invoice, how much and when.';
COMMENT ON COLUMN reporting.payment_applications.payment_id IS 'The payment applied.';
COMMENT ON COLUMN reporting.payment_applications.invoice_id IS 'The invoice it paid.';
COMMENT ON COLUMN reporting.payment_applications.account_id IS 'Customer account.';
COMMENT ON COLUMN reporting.payment_applications.amount_minor IS 'Amount applied, minor units (positive).';
COMMENT ON COLUMN reporting.payment_applications.applied_on IS 'Business date of the application.';
