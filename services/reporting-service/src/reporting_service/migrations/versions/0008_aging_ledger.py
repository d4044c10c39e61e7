"""Aging kept as dated movements, so aging for any date sums a few rows instead of every invoice.

An invoice adds to aging as of D its open balance when that is positive and
it was issued by D (docs/architecture.md#metrics), flagged on hold or in dispute when a
flag covers D. That contribution is a step function of D: it can only change
on the issue date, on a balance change's effective date, or where a flag
starts or ends. `ar_aging_steps` keeps, per invoice, how much each of those
days changes it; aging as of D is then the sum of the steps dated on or
before D, bucketed by the invoice's due date. `ar_aging_by_due_date` holds
the same steps summed per (currency, due date, day), which is all that
totals per currency need: a few rows per due date however many invoices.

Statement triggers keep both in the transaction of every write to invoices,
balance changes and flags, whichever projection or script makes it, so they
cannot drift from the rows they summarise. A write re-derives the steps of
the invoices it touched from their rows and moves only the difference into
the per-due-date sums, which is why replays and out-of-order events (an
application before its invoice, a flag before either) leave them exact.
One transaction at a time re-derives (an advisory lock): two projections
touching the same invoice at once would otherwise each miss the other's row.
"""

from alembic import op

from receivables_platform.db.platform_schema import execute_script

revision = "reporting_service_0008"
down_revision = "reporting_service_0007"
branch_labels = None
depends_on = None

MEASURES = """
    open_minor          bigint  NOT NULL,
    invoices            integer NOT NULL,
    on_hold_minor       bigint  NOT NULL,
    on_hold_invoices    integer NOT NULL,
    in_dispute_minor    bigint  NOT NULL,
    in_dispute_invoices integer NOT NULL"""

SCHEMA = f"""
CREATE TABLE ar_aging_steps (
    invoice_id      uuid NOT NULL,
    effective_date  date NOT NULL,
    account_id      uuid,
    currency        text NOT NULL,
    due_date        date NOT NULL,{MEASURES},
    PRIMARY KEY (invoice_id, effective_date)
);
CREATE INDEX ar_aging_steps_account_idx ON ar_aging_steps (account_id, currency, effective_date)
    INCLUDE (due_date, open_minor, invoices, on_hold_minor, on_hold_invoices, in_dispute_minor,
             in_dispute_invoices);

CREATE TABLE ar_aging_by_due_date (
    currency        text NOT NULL,
    due_date        date NOT NULL,
    effective_date  date NOT NULL,{MEASURES},
    PRIMARY KEY (currency, due_date, effective_date)
);

CREATE VIEW reporting.aging_movements AS
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
COMMENT ON COLUMN reporting.aging_movements.in_dispute_invoices IS 'Change in open invoices in dispute.'
"""  # noqa: S608 - only the fixed column list is interpolated

_COLUMNS = ("open_minor, invoices, on_hold_minor, on_hold_invoices, in_dispute_minor, "
            "in_dispute_invoices")


def _sums(sign: str) -> str:
    return ", ".join(f"{sign}sum({c})" for c in _COLUMNS.split(", "))


_ADD = ", ".join(f"{c} = ar_aging_by_due_date.{c} + EXCLUDED.{c}" for c in _COLUMNS.split(", "))

# the steps of the invoices in `ids`, re-derived from their rows
STEPS = """
    WITH invoice AS (
        SELECT invoice_id, account_id, currency, due_date, issue_date, total_minor
        FROM ar_invoices
        WHERE invoice_id = ANY (ids) AND issue_date IS NOT NULL AND total_minor IS NOT NULL
          AND currency IS NOT NULL AND due_date IS NOT NULL
    ), turn AS (
        SELECT invoice_id, issue_date AS day FROM invoice
        UNION
        SELECT c.invoice_id, c.effective_date FROM ar_balance_changes c JOIN invoice v
            USING (invoice_id) WHERE c.effective_date > v.issue_date
        UNION
        SELECT f.invoice_id, edge.day FROM ar_invoice_flags f JOIN invoice v USING (invoice_id)
            CROSS JOIN LATERAL (VALUES (f.since_date), (f.until_date)) edge (day)
            WHERE edge.day > v.issue_date
    ), standing AS (
        SELECT t.invoice_id, t.day, v.account_id, v.currency, v.due_date,
               v.total_minor + coalesce((SELECT sum(c.amount_minor) FROM ar_balance_changes c
                                         WHERE c.invoice_id = t.invoice_id
                                           AND c.effective_date <= t.day), 0) AS balance,
               EXISTS (SELECT FROM ar_invoice_flags f
                       WHERE f.invoice_id = t.invoice_id AND f.flag = 'hold'
                         AND f.since_date <= t.day
                         AND (f.until_date IS NULL OR f.until_date > t.day)) AS on_hold,
               EXISTS (SELECT FROM ar_invoice_flags f
                       WHERE f.invoice_id = t.invoice_id AND f.flag = 'dispute'
                         AND f.since_date <= t.day
                         AND (f.until_date IS NULL OR f.until_date > t.day)) AS in_dispute
        FROM turn t JOIN invoice v USING (invoice_id)
    ), level AS (
        SELECT invoice_id, day, account_id, currency, due_date,
               greatest(balance, 0)::bigint AS open_minor, (balance > 0)::int AS invoices,
               on_hold, in_dispute
        FROM standing
    ), flagged AS (
        SELECT *,
               CASE WHEN on_hold THEN open_minor ELSE 0 END AS on_hold_minor,
               CASE WHEN on_hold THEN invoices ELSE 0 END AS on_hold_invoices,
               CASE WHEN in_dispute THEN open_minor ELSE 0 END AS in_dispute_minor,
               CASE WHEN in_dispute THEN invoices ELSE 0 END AS in_dispute_invoices
        FROM level
    ), step AS (
        SELECT invoice_id, day AS effective_date, account_id, currency, due_date,
               open_minor - lag(open_minor, 1, 0::bigint) OVER w AS open_minor,
               invoices - lag(invoices, 1, 0) OVER w AS invoices,
               on_hold_minor - lag(on_hold_minor, 1, 0::bigint) OVER w AS on_hold_minor,
               on_hold_invoices - lag(on_hold_invoices, 1, 0) OVER w AS on_hold_invoices,
               in_dispute_minor - lag(in_dispute_minor, 1, 0::bigint) OVER w AS in_dispute_minor,
               in_dispute_invoices - lag(in_dispute_invoices, 1, 0) OVER w AS in_dispute_invoices
        FROM flagged WINDOW w AS (PARTITION BY invoice_id ORDER BY day)
    )"""

RESTEP = f"""
CREATE FUNCTION ar_aging_restep(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    IF cardinality(ids) = 0 THEN RETURN; END IF;
    -- 'aging' in ASCII: one re-derivation at a time (see the migration's docstring)
    PERFORM pg_advisory_xact_lock(6161676967);
    WITH old AS (DELETE FROM ar_aging_steps WHERE invoice_id = ANY (ids) RETURNING *)
    INSERT INTO ar_aging_by_due_date (currency, due_date, effective_date, {_COLUMNS})
    SELECT currency, due_date, effective_date, {_sums('-')}
    FROM old GROUP BY currency, due_date, effective_date
    ORDER BY currency, due_date, effective_date
    ON CONFLICT (currency, due_date, effective_date) DO UPDATE SET {_ADD};
    {STEPS}, fresh AS (
        INSERT INTO ar_aging_steps (invoice_id, effective_date, account_id, currency, due_date,
                                    {_COLUMNS})
        SELECT * FROM step
        WHERE (open_minor, invoices, on_hold_minor, on_hold_invoices, in_dispute_minor,
               in_dispute_invoices) <> (0, 0, 0, 0, 0, 0)
        RETURNING *
    )
    INSERT INTO ar_aging_by_due_date (currency, due_date, effective_date, {_COLUMNS})
    SELECT currency, due_date, effective_date, {_sums('')}
    FROM fresh GROUP BY currency, due_date, effective_date
    ORDER BY currency, due_date, effective_date
    ON CONFLICT (currency, due_date, effective_date) DO UPDATE SET {_ADD};
END $fn$
"""  # noqa: S608 - only fixed column lists are interpolated

FOLLOW = """
CREATE FUNCTION ar_aging_follow() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM ar_aging_restep(ARRAY(SELECT DISTINCT invoice_id FROM changed));
    RETURN NULL;
END $fn$
"""

TRIGGERS = "\n".join(
    f"CREATE TRIGGER {table}_aging_{event.lower()} AFTER {event} ON {table} "
    f"REFERENCING {'OLD' if event == 'DELETE' else 'NEW'} TABLE AS changed "
    f"FOR EACH STATEMENT EXECUTE FUNCTION ar_aging_follow();"
    for table in ("ar_invoices", "ar_balance_changes", "ar_invoice_flags")
    for event in ("INSERT", "UPDATE", "DELETE"))

BACKFILL = "SELECT ar_aging_restep(ARRAY(SELECT invoice_id FROM ar_invoices))"


def upgrade() -> None:
    execute_script(SCHEMA)
    op.execute(RESTEP)
    op.execute(FOLLOW)
    execute_script(TRIGGERS + "\n" + BACKFILL)
