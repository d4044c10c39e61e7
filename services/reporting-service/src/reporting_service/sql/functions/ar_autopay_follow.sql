-- An account registered or removed, an auto-pay enrolment or cancellation, or an account
-- assigned to another collector notes the accounts it touched; ar_aging_at_commit
-- re-derives their auto-pay steps once, when the transaction commits. A rebuild's new
-- assignment table re-derives nothing (the steps would be summed under collectors not
-- yet live): its accounts are regrouped once, after the swap (consumers/projections.py).
CREATE OR REPLACE FUNCTION ar_autopay_follow() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_TABLE_NAME = 'col_assignments' AND TG_TABLE_SCHEMA <> 'public' THEN
        RETURN NULL;
    END IF;
    INSERT INTO ar_autopay_pending SELECT DISTINCT account_id FROM changed;
    IF FOUND THEN
        INSERT INTO ar_aging_commits VALUES (txid_current()) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $fn$;
