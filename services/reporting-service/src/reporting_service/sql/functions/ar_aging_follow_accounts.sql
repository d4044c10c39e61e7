-- An account that changes segment (or is described after its invoices) has its invoices
-- re-derived at commit, which moves their steps from the old segment's sums to the new.
CREATE OR REPLACE FUNCTION ar_aging_follow_accounts() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ar_aging_pending SELECT i.invoice_id FROM changed n
        JOIN ar_invoices i ON i.account_id = n.account_id WHERE n.segment IS NOT NULL;
    ELSE
        INSERT INTO ar_aging_pending SELECT i.invoice_id FROM changed n
        JOIN before o ON o.account_id = n.account_id
        JOIN ar_invoices i ON i.account_id = n.account_id
        WHERE n.segment IS DISTINCT FROM o.segment;
    END IF;
    IF FOUND THEN
        INSERT INTO ar_aging_commits VALUES (txid_current()) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $fn$;
