CREATE OR REPLACE VIEW reporting.invoice_flags AS
SELECT invoice_id, account_id, flag, source, since_date, until_date FROM public.ar_invoice_flags;
COMMENT ON VIEW reporting.invoice_flags IS 'Intervals when an invoice was on hold (collections) or in dispute (an open case); aging flags them, never drops them.';
COMMENT ON COLUMN reporting.invoice_flags.invoice_id IS 'Flagged invoice.';
COMMENT ON COLUMN reporting.invoice_flags.account_id IS 'Customer account.';
COMMENT ON COLUMN reporting.invoice_flags.flag IS 'hold or dispute.';
COMMENT ON COLUMN reporting.invoice_flags.source IS 'What set it: the hold or case id.';
COMMENT ON COLUMN reporting.invoice_flags.since_date IS 'First business date flagged.';
COMMENT ON COLUMN reporting.invoice_flags.until_date IS 'First business date no longer flagged; NULL while it lasts.';
