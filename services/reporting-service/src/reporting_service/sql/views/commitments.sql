CREATE OR REPLACE VIEW reporting.commitments AS
SELECT commitment_id, account_id, collector_id, amount_minor, currency, promised_date, made_on,
       status, paid_minor, judged_on
FROM public.col_commitments;
COMMENT ON VIEW reporting.commitments IS 'Promises to pay and how they ended. Promise-kept rate = kept / (kept + partially_kept + broken) by count; paid / promised by amount.';
COMMENT ON COLUMN reporting.commitments.commitment_id IS 'Commitment id.';
COMMENT ON COLUMN reporting.commitments.account_id IS 'Account that promised.';
COMMENT ON COLUMN reporting.commitments.collector_id IS 'Collector credited with it.';
COMMENT ON COLUMN reporting.commitments.amount_minor IS 'Amount promised, minor units.';
COMMENT ON COLUMN reporting.commitments.currency IS 'ISO 4217 code.';
COMMENT ON COLUMN reporting.commitments.promised_date IS 'Date the customer promised to pay by.';
COMMENT ON COLUMN reporting.commitments.made_on IS 'Business date the promise was made.';
COMMENT ON COLUMN reporting.commitments.status IS 'open, kept, partially_kept, broken or cancelled.';
COMMENT ON COLUMN reporting.commitments.paid_minor IS 'Amount paid against it when judged.';
COMMENT ON COLUMN reporting.commitments.judged_on IS 'Business date it was judged kept, partly kept or broken (or cancelled).';
