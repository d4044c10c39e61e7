-- Every write to ar_invoice_flags notes the invoices it touched for re-derivation at commit
-- (ar_aging_follow), whichever projection or script makes it, so the aging steps and
-- sums cannot drift from the rows they summarise.
CREATE OR REPLACE TRIGGER ar_invoice_flags_aging_insert AFTER INSERT ON ar_invoice_flags
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_aging_follow();
CREATE OR REPLACE TRIGGER ar_invoice_flags_aging_update AFTER UPDATE ON ar_invoice_flags
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_aging_follow();
CREATE OR REPLACE TRIGGER ar_invoice_flags_aging_delete AFTER DELETE ON ar_invoice_flags
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_aging_follow();
