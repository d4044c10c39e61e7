-- Re-derives what the invoices `ids` add to credit sales (their totals on their issue
-- dates) and moves only the difference into the sums the KPIs read: per collector,
-- currency and issue date (ar_sales_by_collector) and per collector and currency over
-- every day (ar_sales_by_collector_total: with the few days after a period's end taken
-- away, it tells whether a collector had any invoice by then). Each invoice's row in
-- ar_sales_of_invoice records the collector it was summed under, so an account moved to
-- another collector moves its sales too. Called with the invoices a transaction touched,
-- at its commit (ar_aging_at_commit), under the same lock as the aging steps: a
-- projection writing invoices and another writing assignments at once would otherwise
-- each miss the other's row. Every invoice with a currency and an issue date counts
-- (a total not yet known counts 0), as the KPI report's scan of ar_invoices did. Most
-- invoices a transaction touches only had a payment: their sales are what they were, so
-- only the invoices whose row would change are moved, which keeps the projection's
-- commits from rewriting the busiest sums for nothing.
CREATE OR REPLACE FUNCTION ar_sales_restep(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    IF cardinality(ids) = 0 THEN RETURN; END IF;
    PERFORM pg_advisory_xact_lock(6161676967);
    SELECT coalesce(array_agg(coalesce(f.invoice_id, o.invoice_id)), '{}') INTO ids
    FROM (SELECT i.invoice_id, ca.collector_id, i.currency, i.issue_date,
                 coalesce(i.total_minor, 0) AS total_minor
          FROM ar_invoices i LEFT JOIN col_assignments ca ON ca.account_id = i.account_id
          WHERE i.invoice_id = ANY (ids) AND i.currency IS NOT NULL
            AND i.issue_date IS NOT NULL) f
    FULL JOIN (SELECT * FROM ar_sales_of_invoice WHERE invoice_id = ANY (ids)) o
           ON o.invoice_id = f.invoice_id
    WHERE (f.invoice_id, f.collector_id, f.currency, f.issue_date, f.total_minor)
          IS DISTINCT FROM (o.invoice_id, o.collector_id, o.currency, o.issue_date,
                            o.total_minor);
    IF cardinality(ids) = 0 THEN RETURN; END IF;
    WITH old AS (DELETE FROM ar_sales_of_invoice WHERE invoice_id = ANY (ids) RETURNING *),
    by_day AS (
        INSERT INTO ar_sales_by_collector (collector_id, currency, issue_date, total_minor,
                                           invoices)
        SELECT collector_id, currency, issue_date, -sum(total_minor), -count(*)
        FROM old GROUP BY collector_id, currency, issue_date
        ORDER BY collector_id, currency, issue_date
        ON CONFLICT (collector_id, currency, issue_date) DO UPDATE SET
            total_minor = ar_sales_by_collector.total_minor + EXCLUDED.total_minor,
            invoices = ar_sales_by_collector.invoices + EXCLUDED.invoices RETURNING 1)
    INSERT INTO ar_sales_by_collector_total (collector_id, currency, total_minor, invoices)
    SELECT collector_id, currency, -sum(total_minor), -count(*)
    FROM old GROUP BY collector_id, currency ORDER BY collector_id, currency
    ON CONFLICT (collector_id, currency) DO UPDATE SET
        total_minor = ar_sales_by_collector_total.total_minor + EXCLUDED.total_minor,
        invoices = ar_sales_by_collector_total.invoices + EXCLUDED.invoices;
    WITH fresh AS (
        INSERT INTO ar_sales_of_invoice (invoice_id, collector_id, currency, issue_date,
                                         total_minor)
        SELECT i.invoice_id, ca.collector_id, i.currency, i.issue_date,
               coalesce(i.total_minor, 0)
        FROM ar_invoices i LEFT JOIN col_assignments ca ON ca.account_id = i.account_id
        WHERE i.invoice_id = ANY (ids) AND i.currency IS NOT NULL AND i.issue_date IS NOT NULL
        RETURNING *),
    by_day AS (
        INSERT INTO ar_sales_by_collector (collector_id, currency, issue_date, total_minor,
                                           invoices)
        SELECT collector_id, currency, issue_date, sum(total_minor), count(*)
        FROM fresh GROUP BY collector_id, currency, issue_date
        ORDER BY collector_id, currency, issue_date
        ON CONFLICT (collector_id, currency, issue_date) DO UPDATE SET
            total_minor = ar_sales_by_collector.total_minor + EXCLUDED.total_minor,
            invoices = ar_sales_by_collector.invoices + EXCLUDED.invoices RETURNING 1)
    INSERT INTO ar_sales_by_collector_total (collector_id, currency, total_minor, invoices)
    SELECT collector_id, currency, sum(total_minor), count(*)
    FROM fresh GROUP BY collector_id, currency ORDER BY collector_id, currency
    ON CONFLICT (collector_id, currency) DO UPDATE SET
        total_minor = ar_sales_by_collector_total.total_minor + EXCLUDED.total_minor,
        invoices = ar_sales_by_collector_total.invoices + EXCLUDED.invoices;
END $fn$;
