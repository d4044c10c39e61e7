CREATE OR REPLACE VIEW reporting.invoice_balance_changes AS
SELECT event_id, invoice_id, kind, amount_minor, effective_date, account_id, reference_id, reason
FROM public.ar_balance_changes;
COMMENT ON VIEW reporting.invoice_balance_changes IS
    'Dated changes to invoice open balances (adjustments, payments applied, reversals); '
    'open balance as of D = total_minor + sum(amount_minor) with effective_date <= D.';
COMMENT ON COLUMN reporting.invoice_balance_changes.event_id IS 'CloudEvents id of the source event.';
COMMENT ON COLUMN reporting.invoice_balance_changes.invoice_id IS 'Invoice whose balance changed.';
COMMENT ON COLUMN reporting.invoice_balance_changes.kind IS
    'What changed it: adjustment_credit, adjustment_debit, payment (applied), reversal, void, write_off.';
COMMENT ON COLUMN reporting.invoice_balance_changes.amount_minor IS 'Signed effect on the open balance, minor units.';
COMMENT ON COLUMN reporting.invoice_balance_changes.effective_date IS 'Business date the change takes effect.';
COMMENT ON COLUMN reporting.invoice_balance_changes.account_id IS 'Customer account of the invoice.';
COMMENT ON COLUMN reporting.invoice_balance_changes.reference_id IS 'The payment (payment, reversal) or adjustment id behind the change.';
COMMENT ON COLUMN reporting.invoice_balance_changes.reason IS 'Reason code or text the billing system gave, if any.';
