CREATE OR REPLACE VIEW reporting.aging_movements AS
SELECT currency, due_date, effective_date, open_minor, invoices, on_hold_minor, on_hold_invoices,
       in_dispute_minor, in_dispute_invoices
FROM public.ar_aging_by_due_date;
COMMENT ON VIEW reporting.aging_movements IS 'How open AR per due date changed on each day. Aging as of D: sum the rows with effective_date <= D, grouped by currency and D - due_date (days past due), buckets by that.';
COMMENT ON COLUMN reporting.aging_movements.currency IS 'ISO 4217 code; never sum across currencies.';
COMMENT ON COLUMN reporting.aging_movements.due_date IS 'Due date of the invoices moved.';
COMMENT ON COLUMN reporting.aging_movements.effective_date IS 'Business date the change took effect (issue, payment, adjustment, flag).';
COMMENT ON COLUMN reporting.aging_movements.open_minor IS 'Change in open AR (positive open balances only), minor units.';
COMMENT ON COLUMN reporting.aging_movements.invoices IS 'Change in the number of open invoices.';
COMMENT ON COLUMN reporting.aging_movements.on_hold_minor IS 'Change in open AR on hold.';
COMMENT ON COLUMN reporting.aging_movements.on_hold_invoices IS 'Change in open invoices on hold.';
COMMENT ON COLUMN reporting.aging_movements.in_dispute_minor IS 'Change in open AR in dispute.';
COMMENT ON COLUMN reporting.aging_movements.in_dispute_invoices IS 'Change in open invoices in dispute.';
