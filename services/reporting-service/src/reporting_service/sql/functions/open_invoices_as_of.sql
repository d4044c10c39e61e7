-- Aging reproducible for any past date without reading the raw tables: like the views,
-- it runs with its owner's rights (SECURITY DEFINER, with a fixed search_path so a
-- caller's objects cannot stand in for the tables).
CREATE OR REPLACE FUNCTION reporting.open_invoices_as_of(as_of date)
RETURNS TABLE (invoice_id uuid, account_id uuid, external_id text, currency text, due_date date,
               open_minor bigint, days_past_due integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
    SELECT i.invoice_id, i.account_id, i.external_id, i.currency, i.due_date,
           (i.total_minor + coalesce(sum(c.amount_minor), 0))::bigint,
           as_of - i.due_date
    FROM public.ar_invoices i
    LEFT JOIN public.ar_balance_changes c
           ON c.invoice_id = i.invoice_id AND c.effective_date <= as_of
    WHERE i.issue_date <= as_of
    GROUP BY i.invoice_id
    HAVING i.total_minor + coalesce(sum(c.amount_minor), 0) > 0
$fn$;
COMMENT ON FUNCTION reporting.open_invoices_as_of(date) IS
    'Invoices with an open balance as of the given date (DESIGN.md section 6), reproducible for any past date.';
REVOKE ALL ON FUNCTION reporting.open_invoices_as_of(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reporting.open_invoices_as_of(date) TO analyst;
