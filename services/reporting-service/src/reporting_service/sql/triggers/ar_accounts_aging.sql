-- Aging by segment follows an account's segment (ar_aging_follow_accounts).
CREATE OR REPLACE TRIGGER ar_accounts_aging_insert AFTER INSERT ON ar_accounts
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION ar_aging_follow_accounts();
CREATE OR REPLACE TRIGGER ar_accounts_aging_update AFTER UPDATE ON ar_accounts
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION ar_aging_follow_accounts();
