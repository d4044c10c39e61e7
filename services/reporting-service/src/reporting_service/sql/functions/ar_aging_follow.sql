-- A write to invoices, balance changes or flags only notes the invoices it touched;
-- ar_aging_at_commit re-derives them all once, when the transaction commits. The
-- consumer runner applies a poll's records in one transaction, one or two statements
-- per event, and re-deriving after every statement cost more than the statements.
CREATE OR REPLACE FUNCTION ar_aging_follow() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO ar_aging_pending SELECT DISTINCT invoice_id FROM changed;
    INSERT INTO ar_aging_commits VALUES (txid_current()) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $fn$;
