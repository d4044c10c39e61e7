-- Re-derives which payments applied to the invoices `ids` were applied after the invoice
-- fell due (ar_past_due_payments): the payments collections can have secured. The KPI
-- report read every payment of a period and looked its invoice up, a lookup per
-- payment; this keeps the payments that qualify with the invoice's currency beside
-- them, and who secured each within the default attribution window (ar_secured_by). From
-- rows, at commit (ar_aging_at_commit), so a payment projected before its invoice, or a
-- due date that changes, leaves it exact.
CREATE OR REPLACE FUNCTION ar_past_due_payments_restep(ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    IF cardinality(ids) = 0 THEN RETURN; END IF;
    PERFORM pg_advisory_xact_lock(6161676967);
    DELETE FROM ar_past_due_payments WHERE invoice_id = ANY (ids);
    INSERT INTO ar_past_due_payments (event_id, invoice_id, account_id, reference_id,
                                      currency, effective_date, amount_minor, secured,
                                      secured_by)
    SELECT c.event_id, c.invoice_id, c.account_id, c.reference_id, i.currency,
           c.effective_date, c.amount_minor, t.secured, t.secured_by
    FROM ar_balance_changes c JOIN ar_invoices i ON i.invoice_id = c.invoice_id
    CROSS JOIN LATERAL (SELECT count(*) > 0 AS secured, max(s.collector_id) AS secured_by
                        FROM ar_secured_by(c.account_id, c.effective_date) s) t
    WHERE c.invoice_id = ANY (ids) AND c.kind = 'payment' AND i.currency IS NOT NULL
      AND i.due_date < c.effective_date;
END $fn$;
