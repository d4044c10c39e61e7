"""Aging steps derived with one running sum per invoice, reading only the invoices touched.

0008 summed an invoice's balance changes again for every day its
contribution could turn, and joined the touched invoices to every balance
change before filtering; a commit re-deriving a poll's 500 invoices spent
most of its time there, and more the longer the ledger grew. The changes and
flags of the touched invoices are now read by index, summed per day and
accumulated once. The derivation is its own function, `ar_aging_steps_of`,
so an analyst or a check can compare it with the stored steps.
"""

from alembic import op

revision = "reporting_service_0010"
down_revision = "reporting_service_0009"
branch_labels = None
depends_on = None

MEASURES = ("open_minor", "invoices", "on_hold_minor", "on_hold_invoices", "in_dispute_minor",
            "in_dispute_invoices")
COLUMNS = ", ".join(MEASURES)



def _flag_covers(flag: str) -> str:
    """Whether a flag of that kind covers the day `d.day` (flags end the day before until)."""
    return (f"EXISTS (SELECT FROM ar_invoice_flags f WHERE f.invoice_id = d.invoice_id "
            f"AND f.flag = '{flag}' AND f.since_date <= d.day "
            f"AND (f.until_date IS NULL OR f.until_date > d.day))")


STEPS_OF = f"""
CREATE FUNCTION ar_aging_steps_of(ids uuid[])
RETURNS TABLE (invoice_id uuid, effective_date date, account_id uuid, currency text,
               due_date date, open_minor bigint, invoices integer, on_hold_minor bigint,
               on_hold_invoices integer, in_dispute_minor bigint, in_dispute_invoices integer)
LANGUAGE sql STABLE AS $fn$
    WITH invoice AS MATERIALIZED (
        SELECT i.invoice_id, i.account_id, i.currency, i.due_date, i.issue_date, i.total_minor
        FROM ar_invoices i
        WHERE i.invoice_id = ANY (ids) AND i.issue_date IS NOT NULL
          AND i.total_minor IS NOT NULL AND i.currency IS NOT NULL AND i.due_date IS NOT NULL
    ), moved AS (
        -- the balance as of a day counts every change effective by then, even before issue
        SELECT v.invoice_id, v.issue_date AS day, v.total_minor AS amount FROM invoice v
        UNION ALL
        SELECT c.invoice_id, greatest(c.effective_date, v.issue_date), c.amount_minor
        FROM ar_balance_changes c JOIN invoice v ON v.invoice_id = c.invoice_id
        WHERE c.invoice_id = ANY (ids)
        UNION ALL
        SELECT f.invoice_id, edge.day, 0
        FROM ar_invoice_flags f JOIN invoice v ON v.invoice_id = f.invoice_id
        CROSS JOIN LATERAL (VALUES (f.since_date), (f.until_date)) edge (day)
        WHERE f.invoice_id = ANY (ids) AND edge.day > v.issue_date
    ), daily AS (
        SELECT m.invoice_id, m.day, sum(m.amount) AS amount
        FROM moved m GROUP BY m.invoice_id, m.day
    ), standing AS (
        SELECT d.invoice_id, d.day,
               sum(d.amount) OVER (PARTITION BY d.invoice_id ORDER BY d.day) AS balance,
               {_flag_covers("hold")} AS on_hold, {_flag_covers("dispute")} AS in_dispute
        FROM daily d
    ), level AS MATERIALIZED (
        SELECT s.invoice_id, s.day, greatest(s.balance, 0)::bigint AS open_minor,
               (s.balance > 0)::int AS invoices, s.on_hold, s.in_dispute
        FROM standing s
    ), flagged AS (
        SELECT l.invoice_id, l.day, l.open_minor, l.invoices,
               CASE WHEN l.on_hold THEN l.open_minor ELSE 0 END AS on_hold_minor,
               CASE WHEN l.on_hold THEN l.invoices ELSE 0 END AS on_hold_invoices,
               CASE WHEN l.in_dispute THEN l.open_minor ELSE 0 END AS in_dispute_minor,
               CASE WHEN l.in_dispute THEN l.invoices ELSE 0 END AS in_dispute_invoices
        FROM level l
    ), step AS (
        SELECT f.invoice_id, f.day,
               f.open_minor - lag(f.open_minor, 1, 0::bigint) OVER w AS open_minor,
               f.invoices - lag(f.invoices, 1, 0) OVER w AS invoices,
               f.on_hold_minor - lag(f.on_hold_minor, 1, 0::bigint) OVER w AS on_hold_minor,
               f.on_hold_invoices - lag(f.on_hold_invoices, 1, 0) OVER w AS on_hold_invoices,
               f.in_dispute_minor - lag(f.in_dispute_minor, 1, 0::bigint) OVER w
                   AS in_dispute_minor,
               f.in_dispute_invoices - lag(f.in_dispute_invoices, 1, 0) OVER w
                   AS in_dispute_invoices
        FROM flagged f WINDOW w AS (PARTITION BY f.invoice_id ORDER BY f.day)
    )
    SELECT s.invoice_id, s.day, v.account_id, v.currency, v.due_date, s.open_minor, s.invoices,
           s.on_hold_minor, s.on_hold_invoices, s.in_dispute_minor, s.in_dispute_invoices
    FROM step s JOIN invoice v ON v.invoice_id = s.invoice_id
    WHERE (s.open_minor, s.invoices, s.on_hold_minor, s.on_hold_invoices, s.in_dispute_minor,
           s.in_dispute_invoices) <> (0, 0, 0, 0, 0, 0)
$fn$
"""  # noqa: S608 - only the two flag kinds are interpolated


def _into_due_dates(source: str, sign: str) -> str:
    """Adds (or takes away) steps to the per-due-date sums, in key order (see 0008's lock)."""
    sums = ", ".join(f"{sign}sum({m})" for m in MEASURES)
    add = ", ".join(f"{m} = ar_aging_by_due_date.{m} + EXCLUDED.{m}" for m in MEASURES)
    return f"""
    INSERT INTO ar_aging_by_due_date (currency, due_date, effective_date, {COLUMNS})
    SELECT currency, due_date, effective_date, {sums}
    FROM {source} GROUP BY currency, due_date, effective_date
    ORDER BY currency, due_date, effective_date
    ON CONFLICT (currency, due_date, effective_date) DO UPDATE SET {add}"""  # noqa: S608


RESTEP = f"""
CREATE OR REPLACE FUNCTION ar_aging_restep(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    IF cardinality(ids) = 0 THEN RETURN; END IF;
    PERFORM pg_advisory_xact_lock(6161676967);
    WITH old AS (DELETE FROM ar_aging_steps WHERE invoice_id = ANY (ids) RETURNING *)
    {_into_due_dates("old", "-")};
    WITH fresh AS (
        INSERT INTO ar_aging_steps (invoice_id, effective_date, account_id, currency, due_date,
                                    {COLUMNS})
        SELECT * FROM ar_aging_steps_of(ids)
        RETURNING *
    )
    {_into_due_dates("fresh", "")};
END $fn$
"""  # noqa: S608 - only fixed column lists are interpolated


def upgrade() -> None:
    op.execute(STEPS_OF)
    op.execute(RESTEP)
