"""KPIs a supervisor can trust: escalations by cause and team, satisfaction at confirmation.

`reason` is why a case was escalated (delay, documentation gap, other), what the
"reduction in escalations caused by delays or documentation gaps" KPI counts;
`team` is the internal team asked, to which an answer's timeliness is credited,
and `answered_by` the person who answered. A case keeps the satisfaction (1-5)
and comment the customer gave when confirming the outcome. `case_corrections` holds
each correction billing applied for a case, so billing accuracy can count the
invoices corrected or credited per root cause of the case.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "reporting_service_0018"
down_revision = "reporting_service_0017"
branch_labels = None
depends_on = None

SCHEMA = """
ALTER TABLE escalations ADD COLUMN team text, ADD COLUMN answered_by text,
    ADD COLUMN reason text CHECK (reason IN ('delay', 'documentation_gap', 'other'));
UPDATE escalations SET team = cause WHERE origin = 'case';
ALTER TABLE cases ADD COLUMN satisfaction smallint CHECK (satisfaction BETWEEN 1 AND 5),
    ADD COLUMN satisfaction_comment text, ADD COLUMN confirmed_at timestamptz;

CREATE TABLE case_corrections (
    correction_id  uuid PRIMARY KEY,
    case_id        uuid NOT NULL,
    invoice_id     uuid NOT NULL,
    currency       text NOT NULL,
    direction      text NOT NULL,
    amount_minor   bigint NOT NULL,
    effective_date date NOT NULL
);
CREATE INDEX case_corrections_date_idx ON case_corrections (effective_date);
"""


def upgrade() -> None:
    execute_script(SCHEMA)
