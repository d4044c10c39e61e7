-- Every write to calls and promises notes their accounts, so the payments those secured are
-- credited again at commit (ar_secured_follow).
CREATE OR REPLACE TRIGGER col_contacts_secured_insert AFTER INSERT ON col_contacts
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_secured_follow();
CREATE OR REPLACE TRIGGER col_contacts_secured_update_old AFTER UPDATE ON col_contacts
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_secured_follow();
CREATE OR REPLACE TRIGGER col_contacts_secured_update_new AFTER UPDATE ON col_contacts
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_secured_follow();
CREATE OR REPLACE TRIGGER col_contacts_secured_delete AFTER DELETE ON col_contacts
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_secured_follow();
CREATE OR REPLACE TRIGGER col_commitments_secured_insert AFTER INSERT ON col_commitments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_secured_follow();
CREATE OR REPLACE TRIGGER col_commitments_secured_update_old AFTER UPDATE ON col_commitments
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_secured_follow();
CREATE OR REPLACE TRIGGER col_commitments_secured_update_new AFTER UPDATE ON col_commitments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_secured_follow();
CREATE OR REPLACE TRIGGER col_commitments_secured_delete AFTER DELETE ON col_commitments
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ar_secured_follow();
