-- An assignment that changes an account's collector re-derives the account's invoices at
-- commit, moving their steps to the new collector's sums (teams join those). A rebuild's
-- new assignment table re-derives nothing: its rows are regrouped once, after the swap
-- (consumers/projections.py, REGROUP_COLLECTORS).
CREATE OR REPLACE FUNCTION ar_aging_follow_assignments() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    -- a rebuild's new tables (their own schema) are regrouped once, after the swap
    IF TG_TABLE_SCHEMA <> 'public' THEN RETURN NULL; END IF;
    IF TG_OP = 'UPDATE' AND OLD.collector_id IS NOT DISTINCT FROM NEW.collector_id
       AND OLD.account_id = NEW.account_id THEN
        RETURN NULL;
    END IF;
    INSERT INTO ar_aging_pending SELECT i.invoice_id FROM ar_invoices i
    WHERE i.account_id IN (CASE WHEN TG_OP <> 'INSERT' THEN OLD.account_id END,
                           CASE WHEN TG_OP <> 'DELETE' THEN NEW.account_id END);
    IF FOUND THEN
        INSERT INTO ar_aging_commits VALUES (txid_current()) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $fn$;
