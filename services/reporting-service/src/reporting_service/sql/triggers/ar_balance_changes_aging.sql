-- Every write to ar_balance_changes notes the invoices it touched for re-derivation at commit
-- (ar_aging_follow), whichever projection or script makes it, so the aging steps and
-- sums cannot drift from the rows they summarise.
CREATE OR REPLACE TRIGGER ar_balance_changes_aging_insert AFTER INSERT ON ar_balance_changes
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_aging_follow();
CREATE OR REPLACE TRIGGER ar_balance_changes_aging_update AFTER UPDATE ON ar_balance_changes
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_aging_follow();
CREATE OR REPLACE TRIGGER ar_balance_changes_aging_delete AFTER DELETE ON ar_balance_changes
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_aging_follow();
