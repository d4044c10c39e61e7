-- The aging steps of the invoices `ids`, derived from their rows: what each day changes
-- in the invoice's contribution to aging (docs/architecture.md#metrics).
--
-- An invoice adds to aging as of D its open balance when that is positive and it was
-- issued by D, flagged on hold or in dispute when a flag covers D. That is a step
-- function of D: it can only change on the issue date, on a balance change's effective
-- date, or where a flag starts or ends. The changes and flags of the invoices asked for
-- are read by index, summed per day and accumulated once (one running sum per invoice):
-- summing every change again for each day, or joining every change before filtering,
-- cost most of a commit's time and more the longer the ledger grew. Its own function so
-- that an analyst or a check can compare it with the stored steps. A flag covers the
-- days from its since_date up to the day before its until_date.
--
-- An invoice paid in instalments ages by each instalment's due date, not only by its last:
-- each day's open balance is spread over the instalments (ar_open_instalments), so an
-- overdue first instalment is past due while the rest is current, and each due date has
-- steps of its own. The invoice counts once, under its oldest open instalment.
CREATE OR REPLACE FUNCTION ar_aging_steps_of(ids uuid[])
RETURNS TABLE (invoice_id uuid, effective_date date, account_id uuid, currency text,
               due_date date, open_minor bigint, invoices integer, on_hold_minor bigint,
               on_hold_invoices integer, in_dispute_minor bigint, in_dispute_invoices integer)
LANGUAGE sql STABLE AS $fn$
    WITH invoice AS MATERIALIZED (
        -- the plan is read through the row's JSON, not by name: migration 0019 applies
        -- this definition before 0020 adds the column (an absent key: no plan)
        SELECT i.invoice_id, i.account_id, i.currency, i.due_date, i.issue_date, i.total_minor,
               to_jsonb(i) -> 'instalments' AS instalments
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
               EXISTS (SELECT FROM ar_invoice_flags f
                       WHERE f.invoice_id = d.invoice_id AND f.flag = 'hold'
                         AND f.since_date <= d.day
                         AND (f.until_date IS NULL OR f.until_date > d.day)) AS on_hold,
               EXISTS (SELECT FROM ar_invoice_flags f
                       WHERE f.invoice_id = d.invoice_id AND f.flag = 'dispute'
                         AND f.since_date <= d.day
                         AND (f.until_date IS NULL OR f.until_date > d.day)) AS in_dispute
        FROM daily d
    ), level AS MATERIALIZED (
        SELECT s.invoice_id, s.day, o.due_date, o.open_minor,
               (o.oldest AND s.balance > 0)::int AS invoices, s.on_hold, s.in_dispute
        FROM standing s JOIN invoice v ON v.invoice_id = s.invoice_id
        CROSS JOIN LATERAL ar_open_instalments(v.instalments, v.due_date, v.total_minor,
                                               greatest(s.balance, 0)::bigint) o
    ), flagged AS (
        SELECT l.invoice_id, l.day, l.due_date, l.open_minor, l.invoices,
               CASE WHEN l.on_hold THEN l.open_minor ELSE 0 END AS on_hold_minor,
               CASE WHEN l.on_hold THEN l.invoices ELSE 0 END AS on_hold_invoices,
               CASE WHEN l.in_dispute THEN l.open_minor ELSE 0 END AS in_dispute_minor,
               CASE WHEN l.in_dispute THEN l.invoices ELSE 0 END AS in_dispute_invoices
        FROM level l
    ), step AS (
        SELECT f.invoice_id, f.day, f.due_date,
               f.open_minor - lag(f.open_minor, 1, 0::bigint) OVER w AS open_minor,
               f.invoices - lag(f.invoices, 1, 0) OVER w AS invoices,
               f.on_hold_minor - lag(f.on_hold_minor, 1, 0::bigint) OVER w AS on_hold_minor,
               f.on_hold_invoices - lag(f.on_hold_invoices, 1, 0) OVER w AS on_hold_invoices,
               f.in_dispute_minor - lag(f.in_dispute_minor, 1, 0::bigint) OVER w
                   AS in_dispute_minor,
               f.in_dispute_invoices - lag(f.in_dispute_invoices, 1, 0) OVER w
                   AS in_dispute_invoices
        FROM flagged f WINDOW w AS (PARTITION BY f.invoice_id, f.due_date ORDER BY f.day)
    )
    SELECT s.invoice_id, s.day, v.account_id, v.currency, s.due_date, s.open_minor, s.invoices,
           s.on_hold_minor, s.on_hold_invoices, s.in_dispute_minor, s.in_dispute_invoices
    FROM step s JOIN invoice v ON v.invoice_id = s.invoice_id
    WHERE (s.open_minor, s.invoices, s.on_hold_minor, s.on_hold_invoices, s.in_dispute_minor,
           s.in_dispute_invoices) <> (0, 0, 0, 0, 0, 0)
$fn$;
