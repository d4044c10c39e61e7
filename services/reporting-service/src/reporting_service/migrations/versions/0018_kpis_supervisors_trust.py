"""KPIs a supervisor can trust: escalations by cause and team, satisfaction at confirmation.

`reason` is why a case was escalated (delay, documentation gap, other), what the
"reduction in escalations caused by delays or documentation gaps" KPI counts;
`team` is the internal team asked, to which an answer's timeliness is credited,
and `answered_by` the person who answered. A case keeps the satisfaction (1-5)
and comment the customer gave when confirming the outcome. `case_corrections` holds
each correction billing applied for a case, so billing accuracy can count the
invoices corrected or credited per root cause of the case.

Aging by segment read every invoice's steps joined to its account (708 ms at a
million invoices). `ar_aging_by_segment` keeps the steps summed per segment and
due date, as `ar_aging_by_due_date` does per currency, so aging by segment as of
any day reads a few thousand rows. Each step records the segment it was summed
under; when an account changes segment its invoices are re-derived at commit
(the 0009 path), which moves their steps from the old segment to the new.
"""

from alembic import op

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

ALTER TABLE ar_aging_steps ADD COLUMN segment text;
UPDATE ar_aging_steps s SET segment = a.segment FROM ar_accounts a
WHERE a.account_id = s.account_id AND a.segment IS NOT NULL;
CREATE TABLE ar_aging_by_segment (
    segment             text,
    currency            text    NOT NULL,
    due_date            date    NOT NULL,
    effective_date      date    NOT NULL,
    open_minor          bigint  NOT NULL,
    invoices            integer NOT NULL,
    on_hold_minor       bigint  NOT NULL,
    on_hold_invoices    integer NOT NULL,
    in_dispute_minor    bigint  NOT NULL,
    in_dispute_invoices integer NOT NULL,
    UNIQUE NULLS NOT DISTINCT (segment, currency, due_date, effective_date)
);
INSERT INTO ar_aging_by_segment
SELECT segment, currency, due_date, effective_date, sum(open_minor), sum(invoices),
       sum(on_hold_minor), sum(on_hold_invoices), sum(in_dispute_minor),
       sum(in_dispute_invoices)
FROM ar_aging_steps GROUP BY segment, currency, due_date, effective_date
"""

MEASURES = ("open_minor", "invoices", "on_hold_minor", "on_hold_invoices", "in_dispute_minor",
            "in_dispute_invoices")
COLUMNS = ", ".join(MEASURES)


def _summed(table: str, keys: str, source: str, sign: str) -> str:
    """Adds (or takes away) steps to the sums of `table` per `keys`, in key order."""
    sums = ", ".join(f"{sign}sum({m})" for m in MEASURES)
    add = ", ".join(f"{m} = {table}.{m} + EXCLUDED.{m}" for m in MEASURES)
    return f"""
    INSERT INTO {table} ({keys}, {COLUMNS})
    SELECT {keys}, {sums} FROM {source} GROUP BY {keys} ORDER BY {keys}
    ON CONFLICT ({keys}) DO UPDATE SET {add}"""  # noqa: S608


_DUE = ("ar_aging_by_due_date", "currency, due_date, effective_date")
_SEGMENT = ("ar_aging_by_segment", "segment, currency, due_date, effective_date")

RESTEP = f"""
CREATE OR REPLACE FUNCTION ar_aging_restep(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    IF cardinality(ids) = 0 THEN RETURN; END IF;
    PERFORM pg_advisory_xact_lock(6161676967);
    WITH old AS (DELETE FROM ar_aging_steps WHERE invoice_id = ANY (ids) RETURNING *),
    by_segment AS ({_summed(*_SEGMENT, "old", "-")} RETURNING 1)
    {_summed(*_DUE, "old", "-")};
    WITH fresh AS (
        INSERT INTO ar_aging_steps (invoice_id, effective_date, account_id, currency, due_date,
                                    {COLUMNS}, segment)
        SELECT st.*, a.segment FROM ar_aging_steps_of(ids) st
        LEFT JOIN ar_accounts a ON a.account_id = st.account_id
        RETURNING *
    ),
    by_segment AS ({_summed(*_SEGMENT, "fresh", "")} RETURNING 1)
    {_summed(*_DUE, "fresh", "")};
END $fn$
"""  # noqa: S608 - only fixed column lists are interpolated

# an account that changes segment (or is described after its invoices) has its invoices
# re-derived at commit, moving their steps to the segment's sums
FOLLOW_ACCOUNTS = """
CREATE FUNCTION ar_aging_follow_accounts() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ar_aging_pending SELECT i.invoice_id FROM changed n
        JOIN ar_invoices i ON i.account_id = n.account_id WHERE n.segment IS NOT NULL;
    ELSE
        INSERT INTO ar_aging_pending SELECT i.invoice_id FROM changed n
        JOIN before o ON o.account_id = n.account_id
        JOIN ar_invoices i ON i.account_id = n.account_id
        WHERE n.segment IS DISTINCT FROM o.segment;
    END IF;
    IF FOUND THEN
        INSERT INTO ar_aging_commits VALUES (txid_current()) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $fn$
"""

TRIGGERS = """
CREATE TRIGGER ar_accounts_aging_insert AFTER INSERT ON ar_accounts
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION ar_aging_follow_accounts();
CREATE TRIGGER ar_accounts_aging_update AFTER UPDATE ON ar_accounts
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION ar_aging_follow_accounts()
"""


def upgrade() -> None:
    execute_script(SCHEMA)
    op.execute(RESTEP)
    op.execute(FOLLOW_ACCOUNTS)
    execute_script(TRIGGERS)
