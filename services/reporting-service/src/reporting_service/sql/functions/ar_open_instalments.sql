-- What of an invoice's open balance falls on each of its instalments' due dates.
--
-- Billing's invoice.issued carries the instalment plan (`plan`, a JSON array of
-- {due_date, amount_minor}; NULL or JSON null for invoices projected before it was kept,
-- and for a single instalment on the due date: one instalment of `total` on `final_due`).
-- Money received settles the earliest instalments first, so `balance` is what is left of
-- the latest ones; a balance above the plan (a debit adjustment) falls on the last. One
-- row per distinct due date, open or not, so the steps of each due date can be told apart
-- from one day to the next; `oldest` marks the earliest one still open, the due date an
-- invoice counts under (one invoice, one count).
CREATE OR REPLACE FUNCTION ar_open_instalments(plan jsonb, final_due date, total bigint,
                                               balance bigint)
RETURNS TABLE (due_date date, open_minor bigint, oldest boolean)
LANGUAGE sql IMMUTABLE AS $fn$
    WITH planned AS (
        SELECT (p.item ->> 'due_date')::date AS due_date,
               sum((p.item ->> 'amount_minor')::bigint) AS amount
        FROM jsonb_array_elements(coalesce(CASE jsonb_typeof(plan) WHEN 'array' THEN plan END,
                                           jsonb_build_array(
                 jsonb_build_object('due_date', final_due, 'amount_minor', total)))) p (item)
        GROUP BY 1
    ), placed AS (
        SELECT p.due_date,
               greatest(least(balance - coalesce(sum(p.amount) OVER later, 0),
                              p.amount + CASE WHEN p.due_date = max(p.due_date) OVER ()
                                              THEN greatest(balance - sum(p.amount) OVER (), 0)
                                              ELSE 0 END),
                        0)::bigint AS open_minor
        FROM planned p
        WINDOW later AS (ORDER BY p.due_date DESC ROWS BETWEEN UNBOUNDED PRECEDING
                         AND 1 PRECEDING)
    )
    SELECT p.due_date, p.open_minor,
           p.open_minor > 0 AND p.due_date = min(p.due_date) FILTER (WHERE p.open_minor > 0)
                                                OVER ()
    FROM placed p
$fn$;
