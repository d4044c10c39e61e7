-- Re-derives the aging steps of the invoices `ids` from their rows (ar_aging_steps_of)
-- and moves only the difference into the sums that aging reads: per currency and due
-- date (ar_aging_by_due_date, all that totals per currency need), per segment
-- (ar_aging_by_segment) and per collector (ar_aging_by_collector, with its totals over
-- every day in ar_aging_by_collector_total, and its whole book per currency in
-- ar_aging_by_collector_book: aging as of D is the book less the sums dated after D,
-- with only the recent due dates read one by one). Each step records the segment and
-- collector it was summed under, so taking it away takes it from the right sums.
-- Re-deriving from rows is what makes replays and out-of-order events (an application
-- before its invoice, a flag before either) leave the sums exact.
--
-- The old steps and the fresh ones meet in one difference (`moved`), netted per step
-- key, so each sum is written once by one statement, and a step derived again unchanged
-- (most of a re-derivation) writes nothing. The fresh steps are written only once the
-- old are gone: they share keys.
--
-- One transaction at a time re-derives (an advisory lock; 6161676967 is 'aging' in
-- ASCII): two projections touching the same invoice at once would otherwise each miss
-- the other's row. Sums are written in key order so two writers never deadlock.
CREATE OR REPLACE FUNCTION ar_aging_restep(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    IF cardinality(ids) = 0 THEN RETURN; END IF;
    PERFORM pg_advisory_xact_lock(6161676967);
    WITH old AS MATERIALIZED (
        DELETE FROM ar_aging_steps WHERE invoice_id = ANY (ids) RETURNING *
    ),
    fresh AS (
        INSERT INTO ar_aging_steps (invoice_id, effective_date, account_id, currency, due_date,
                                    open_minor, invoices, on_hold_minor, on_hold_invoices, in_dispute_minor, in_dispute_invoices,
                                    segment, collector_id)
        SELECT st.*,
               (SELECT a.segment FROM ar_accounts a WHERE a.account_id = st.account_id),
               (SELECT ca.collector_id FROM col_assignments ca
                WHERE ca.account_id = st.account_id)
        FROM ar_aging_steps_of(ids) st
        WHERE (SELECT count(*) FROM old) >= 0  -- after the old are deleted
        RETURNING *
    ),
    moved AS MATERIALIZED (
        SELECT segment, collector_id, currency, due_date, effective_date,
               sum(open_minor) AS open_minor, sum(invoices) AS invoices,
               sum(on_hold_minor) AS on_hold_minor, sum(on_hold_invoices) AS on_hold_invoices,
               sum(in_dispute_minor) AS in_dispute_minor,
               sum(in_dispute_invoices) AS in_dispute_invoices
        FROM (SELECT segment, collector_id, currency, due_date, effective_date, open_minor,
                     invoices, on_hold_minor, on_hold_invoices, in_dispute_minor,
                     in_dispute_invoices
              FROM fresh
              UNION ALL
              SELECT segment, collector_id, currency, due_date, effective_date, -open_minor,
                     -invoices, -on_hold_minor, -on_hold_invoices, -in_dispute_minor,
                     -in_dispute_invoices
              FROM old) steps
        GROUP BY segment, collector_id, currency, due_date, effective_date
        HAVING (sum(open_minor), sum(invoices), sum(on_hold_minor), sum(on_hold_invoices),
                sum(in_dispute_minor), sum(in_dispute_invoices)) <> (0, 0, 0, 0, 0, 0)
    ),
    by_segment AS (
    INSERT INTO ar_aging_by_segment (segment, currency, due_date, effective_date,
        open_minor, invoices, on_hold_minor, on_hold_invoices, in_dispute_minor, in_dispute_invoices)
    SELECT segment, currency, due_date, effective_date, sum(open_minor), sum(invoices), sum(on_hold_minor),
           sum(on_hold_invoices), sum(in_dispute_minor), sum(in_dispute_invoices)
    FROM moved GROUP BY segment, currency, due_date, effective_date ORDER BY segment, currency, due_date, effective_date
    ON CONFLICT (segment, currency, due_date, effective_date) DO UPDATE SET
        open_minor = ar_aging_by_segment.open_minor + EXCLUDED.open_minor,
        invoices = ar_aging_by_segment.invoices + EXCLUDED.invoices,
        on_hold_minor = ar_aging_by_segment.on_hold_minor + EXCLUDED.on_hold_minor,
        on_hold_invoices = ar_aging_by_segment.on_hold_invoices + EXCLUDED.on_hold_invoices,
        in_dispute_minor = ar_aging_by_segment.in_dispute_minor + EXCLUDED.in_dispute_minor,
        in_dispute_invoices = ar_aging_by_segment.in_dispute_invoices + EXCLUDED.in_dispute_invoices RETURNING 1),
    by_collector AS (
    INSERT INTO ar_aging_by_collector (collector_id, currency, due_date, effective_date,
        open_minor, invoices, on_hold_minor, on_hold_invoices, in_dispute_minor, in_dispute_invoices)
    SELECT collector_id, currency, due_date, effective_date, sum(open_minor), sum(invoices), sum(on_hold_minor),
           sum(on_hold_invoices), sum(in_dispute_minor), sum(in_dispute_invoices)
    FROM moved GROUP BY collector_id, currency, due_date, effective_date ORDER BY collector_id, currency, due_date, effective_date
    ON CONFLICT (collector_id, currency, due_date, effective_date) DO UPDATE SET
        open_minor = ar_aging_by_collector.open_minor + EXCLUDED.open_minor,
        invoices = ar_aging_by_collector.invoices + EXCLUDED.invoices,
        on_hold_minor = ar_aging_by_collector.on_hold_minor + EXCLUDED.on_hold_minor,
        on_hold_invoices = ar_aging_by_collector.on_hold_invoices + EXCLUDED.on_hold_invoices,
        in_dispute_minor = ar_aging_by_collector.in_dispute_minor + EXCLUDED.in_dispute_minor,
        in_dispute_invoices = ar_aging_by_collector.in_dispute_invoices + EXCLUDED.in_dispute_invoices RETURNING 1),
    by_collector_total AS (
    INSERT INTO ar_aging_by_collector_total (collector_id, currency, due_date,
        open_minor, invoices, on_hold_minor, on_hold_invoices, in_dispute_minor, in_dispute_invoices)
    SELECT collector_id, currency, due_date, sum(open_minor), sum(invoices), sum(on_hold_minor),
           sum(on_hold_invoices), sum(in_dispute_minor), sum(in_dispute_invoices)
    FROM moved GROUP BY collector_id, currency, due_date ORDER BY collector_id, currency, due_date
    ON CONFLICT (collector_id, currency, due_date) DO UPDATE SET
        open_minor = ar_aging_by_collector_total.open_minor + EXCLUDED.open_minor,
        invoices = ar_aging_by_collector_total.invoices + EXCLUDED.invoices,
        on_hold_minor = ar_aging_by_collector_total.on_hold_minor + EXCLUDED.on_hold_minor,
        on_hold_invoices = ar_aging_by_collector_total.on_hold_invoices + EXCLUDED.on_hold_invoices,
        in_dispute_minor = ar_aging_by_collector_total.in_dispute_minor + EXCLUDED.in_dispute_minor,
        in_dispute_invoices = ar_aging_by_collector_total.in_dispute_invoices + EXCLUDED.in_dispute_invoices RETURNING 1),
    by_collector_book AS (
    INSERT INTO ar_aging_by_collector_book (collector_id, currency,
        open_minor, invoices, on_hold_minor, on_hold_invoices, in_dispute_minor, in_dispute_invoices)
    SELECT collector_id, currency, sum(open_minor), sum(invoices), sum(on_hold_minor),
           sum(on_hold_invoices), sum(in_dispute_minor), sum(in_dispute_invoices)
    FROM moved GROUP BY collector_id, currency ORDER BY collector_id, currency
    ON CONFLICT (collector_id, currency) DO UPDATE SET
        open_minor = ar_aging_by_collector_book.open_minor + EXCLUDED.open_minor,
        invoices = ar_aging_by_collector_book.invoices + EXCLUDED.invoices,
        on_hold_minor = ar_aging_by_collector_book.on_hold_minor + EXCLUDED.on_hold_minor,
        on_hold_invoices = ar_aging_by_collector_book.on_hold_invoices + EXCLUDED.on_hold_invoices,
        in_dispute_minor = ar_aging_by_collector_book.in_dispute_minor + EXCLUDED.in_dispute_minor,
        in_dispute_invoices = ar_aging_by_collector_book.in_dispute_invoices + EXCLUDED.in_dispute_invoices RETURNING 1)
    INSERT INTO ar_aging_by_due_date (currency, due_date, effective_date,
        open_minor, invoices, on_hold_minor, on_hold_invoices, in_dispute_minor, in_dispute_invoices)
    SELECT currency, due_date, effective_date, sum(open_minor), sum(invoices), sum(on_hold_minor),
           sum(on_hold_invoices), sum(in_dispute_minor), sum(in_dispute_invoices)
    FROM moved GROUP BY currency, due_date, effective_date ORDER BY currency, due_date, effective_date
    ON CONFLICT (currency, due_date, effective_date) DO UPDATE SET
        open_minor = ar_aging_by_due_date.open_minor + EXCLUDED.open_minor,
        invoices = ar_aging_by_due_date.invoices + EXCLUDED.invoices,
        on_hold_minor = ar_aging_by_due_date.on_hold_minor + EXCLUDED.on_hold_minor,
        on_hold_invoices = ar_aging_by_due_date.on_hold_invoices + EXCLUDED.on_hold_invoices,
        in_dispute_minor = ar_aging_by_due_date.in_dispute_minor + EXCLUDED.in_dispute_minor,
        in_dispute_invoices = ar_aging_by_due_date.in_dispute_invoices + EXCLUDED.in_dispute_invoices;
END $fn$;
