"""Daily aging snapshots: AR by bucket as it stood at the end of each business day.

Aging as of a past date can always be recomputed, but a recomputation sees
late corrections (a credit memo effective last week, booked today). A
snapshot keeps what the books said at the close of the day, which is what a
trend ("did we reduce aging?") must compare. One run per date; taking it
again returns the stored one.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "reporting_service_0007"
down_revision = "reporting_service_0006"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE aging_snapshot_runs (
    snapshot_date  date PRIMARY KEY,
    taken_at       timestamptz NOT NULL DEFAULT now(),
    bucket_bounds  integer[] NOT NULL
);

CREATE TABLE aging_snapshots (
    snapshot_date     date    NOT NULL REFERENCES aging_snapshot_runs ON DELETE CASCADE,
    currency          text    NOT NULL,
    segment           text,
    collector_id      text,
    team              text,
    bucket            text    NOT NULL,
    bucket_lower_days integer,
    amount_minor      bigint  NOT NULL,
    invoices          integer NOT NULL,
    on_hold_minor     bigint  NOT NULL,
    in_dispute_minor  bigint  NOT NULL
);
CREATE INDEX aging_snapshots_date_idx ON aging_snapshots (snapshot_date, currency);

CREATE VIEW reporting.aging_snapshots AS
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
GRANT SELECT ON reporting.aging_snapshots TO analyst;
"""


def upgrade() -> None:
    execute_script(SCHEMA)
