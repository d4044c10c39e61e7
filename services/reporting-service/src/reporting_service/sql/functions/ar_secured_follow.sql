-- A call or promise written, changed or removed notes its account for ar_secured_restep
-- at commit (ar_aging_at_commit). A rebuild's new tables (their own schema) credit
-- nothing until the swap, which credits every payment again (consumers/projections.py).
CREATE OR REPLACE FUNCTION ar_secured_follow() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_TABLE_SCHEMA <> 'public' THEN RETURN NULL; END IF;
    INSERT INTO ar_secured_pending SELECT DISTINCT account_id FROM changed;
    IF FOUND THEN
        INSERT INTO ar_aging_commits VALUES (txid_current()) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $fn$;
