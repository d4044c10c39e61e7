-- Fired once per transaction, at commit (the deferred trigger ar_aging_commits_restep),
-- still inside the transaction that wrote the rows: re-derives, set-based, every invoice
-- the transaction's statements noted in ar_aging_pending, their credit sales
-- (ar_sales_restep) and payments received past due (ar_past_due_payments_restep), and the auto-pay steps of the accounts noted in ar_autopay_pending
-- (ar_autopay_restep), and who secured the payments of the accounts whose calls or
-- promises changed (ar_secured_restep, ar_secured_pending). The advisory lock of ar_aging_restep is then held only from this
-- moment to the commit.
--
-- Each restep is one large statement, and PostgreSQL planned it afresh at every commit:
-- for a commit of a few invoices the planning took twice as long as the run. A commit's
-- handful of ids now runs under the plan kept for the connection (ar_aging_plan_for), while a
-- large set (a migration, a bulk import's commit) is planned for its size: a plan made
-- for a few ids took 400 s over 100,000 where one made for them took 7 s. The function's
-- SET clause gives the session its own setting back when it returns.
CREATE OR REPLACE FUNCTION ar_aging_at_commit() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = auto AS $fn$
DECLARE
    touched uuid[];
    accounts uuid[];
BEGIN
    WITH noted AS (DELETE FROM ar_aging_pending RETURNING invoice_id)
    SELECT coalesce(array_agg(DISTINCT invoice_id), '{}') INTO touched FROM noted;
    DELETE FROM ar_aging_commits WHERE txid = NEW.txid;
    PERFORM ar_aging_plan_for(touched);
    PERFORM ar_aging_restep(touched);
    PERFORM ar_sales_restep(touched);
    PERFORM ar_past_due_payments_restep(touched);
    WITH noted AS (DELETE FROM ar_autopay_pending RETURNING account_id)
    SELECT coalesce(array_agg(DISTINCT account_id), '{}') INTO accounts FROM noted;
    PERFORM ar_aging_plan_for(accounts);
    PERFORM ar_autopay_restep(accounts);
    WITH noted AS (DELETE FROM ar_secured_pending RETURNING account_id)
    SELECT coalesce(array_agg(DISTINCT account_id), '{}') INTO accounts FROM noted;
    PERFORM ar_aging_plan_for(accounts);
    PERFORM ar_secured_restep(accounts);
    RETURN NULL;
END $fn$;
