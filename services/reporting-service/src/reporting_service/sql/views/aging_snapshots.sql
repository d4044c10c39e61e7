CREATE OR REPLACE VIEW reporting.aging_snapshots AS
SELECT s.snapshot_date, r.taken_at, s.currency, s.segment, s.collector_id, s.team, s.bucket,
       s.bucket_lower_days, s.amount_minor, s.invoices, s.on_hold_minor, s.in_dispute_minor
FROM public.aging_snapshots s JOIN public.aging_snapshot_runs r USING (snapshot_date);
COMMENT ON VIEW reporting.aging_snapshots IS 'AR aging at the close of each business day, by currency, segment, collector and bucket. Past due = bucket_lower_days >= 1; 61+ = bucket_lower_days >= 61.';
COMMENT ON COLUMN reporting.aging_snapshots.snapshot_date IS 'Business day whose close this is.';
COMMENT ON COLUMN reporting.aging_snapshots.taken_at IS 'When the snapshot was taken (after that day ended).';
COMMENT ON COLUMN reporting.aging_snapshots.currency IS 'ISO 4217 code; never sum across currencies.';
COMMENT ON COLUMN reporting.aging_snapshots.segment IS 'Customer segment, NULL when none.';
COMMENT ON COLUMN reporting.aging_snapshots.collector_id IS 'Assigned collector, NULL when unassigned.';
COMMENT ON COLUMN reporting.aging_snapshots.team IS 'That collector''s team, NULL when unknown.';
COMMENT ON COLUMN reporting.aging_snapshots.bucket IS 'Bucket label: current, 1-30, 31-60, 61-90, 91-120, 120+.';
COMMENT ON COLUMN reporting.aging_snapshots.bucket_lower_days IS 'First day past due in the bucket; NULL for current.';
COMMENT ON COLUMN reporting.aging_snapshots.amount_minor IS 'Open AR in the bucket, minor units.';
COMMENT ON COLUMN reporting.aging_snapshots.invoices IS 'Open invoices in the bucket.';
COMMENT ON COLUMN reporting.aging_snapshots.on_hold_minor IS 'Of amount_minor, on hold in collections.';
COMMENT ON COLUMN reporting.aging_snapshots.in_dispute_minor IS 'Of amount_minor, in dispute (an open case).';
