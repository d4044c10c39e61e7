-- Credits again the payments past due of the accounts `ids` whose calls or promises
-- changed (ar_secured_follow): a call projected after the payment it preceded still
-- secures it. Under the aging lock, as ar_past_due_payments_restep: a call committed while
-- a payment is derived would otherwise be missed by both.
CREATE OR REPLACE FUNCTION ar_secured_restep(ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    IF cardinality(ids) = 0 THEN RETURN; END IF;
    PERFORM pg_advisory_xact_lock(6161676967);
    UPDATE ar_past_due_payments c SET (secured, secured_by) = (
        SELECT count(*) > 0, max(s.collector_id) FROM ar_secured_by(c.account_id, c.effective_date) s)
    WHERE c.account_id = ANY (ids);
END $fn$;
