-- Who secured a payment applied on `paid_on` to an invoice of `account`: the collector of
-- the latest call or promise on the account within the attribution window before it
-- (docs/architecture.md#metrics, collections secured), the first by collector id on a
-- tie; no row when there was none. The window kept is the KPI report's default, 14 days
-- (reporting_service.adapters.kpi_query.KEPT_ATTRIBUTION_WINDOW_DAYS).
CREATE OR REPLACE FUNCTION ar_secured_by(account uuid, paid_on date)
RETURNS TABLE (collector_id text) LANGUAGE sql STABLE AS $fn$
    SELECT t.collector_id FROM (
        SELECT c.collector_id, c.business_date AS day FROM col_contacts c
        WHERE c.account_id = account
        UNION ALL
        SELECT m.collector_id, m.made_on FROM col_commitments m
        WHERE m.account_id = account AND m.made_on IS NOT NULL) t
    WHERE t.day BETWEEN paid_on - 14 AND paid_on
    ORDER BY t.day DESC, t.collector_id LIMIT 1
$fn$;
