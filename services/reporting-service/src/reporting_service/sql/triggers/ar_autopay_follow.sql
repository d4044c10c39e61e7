-- Every write that changes which accounts there are, their auto-pay history or their
-- collector notes the accounts for re-derivation at commit (ar_autopay_follow), so the
-- auto-pay sums cannot drift from the rows they summarise. An account's other columns
-- do not count: an update of ar_accounts is not followed.
CREATE OR REPLACE TRIGGER ar_accounts_autopay_insert AFTER INSERT ON ar_accounts
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_autopay_follow();
CREATE OR REPLACE TRIGGER ar_accounts_autopay_delete AFTER DELETE ON ar_accounts
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_autopay_follow();
CREATE OR REPLACE TRIGGER ar_autopay_history_follow_insert AFTER INSERT ON ar_autopay_history
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_autopay_follow();
CREATE OR REPLACE TRIGGER ar_autopay_history_follow_update_old AFTER UPDATE ON ar_autopay_history
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_autopay_follow();
CREATE OR REPLACE TRIGGER ar_autopay_history_follow_update_new AFTER UPDATE ON ar_autopay_history
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_autopay_follow();
CREATE OR REPLACE TRIGGER ar_autopay_history_follow_delete AFTER DELETE ON ar_autopay_history
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_autopay_follow();
CREATE OR REPLACE TRIGGER col_assignments_autopay_insert AFTER INSERT ON col_assignments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_autopay_follow();
CREATE OR REPLACE TRIGGER col_assignments_autopay_update_old AFTER UPDATE ON col_assignments
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_autopay_follow();
CREATE OR REPLACE TRIGGER col_assignments_autopay_update_new AFTER UPDATE ON col_assignments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_autopay_follow();
CREATE OR REPLACE TRIGGER col_assignments_autopay_delete AFTER DELETE ON col_assignments
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_autopay_follow();
