"""Daily aging snapshots: AR by bucket as it stood at the end of each business day.

Aging as of a past date can always be recomputed, but a recomputation sees
late corrections (a credit memo effective last week, booked today). A
snapshot keeps what the books said at the close of the day, which is what a
trend ("did we reduce aging?") must compare. One run per date; taking it
again returns the stored one. Analysts read them through the view
`reporting.aging_snapshots` (`reporting_service/sql/views/aging_snapshots.sql`).
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
"""


def upgrade() -> None:
    execute_script(SCHEMA)
