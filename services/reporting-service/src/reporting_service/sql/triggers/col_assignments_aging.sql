-- Aging by collector and team follows an account's assignment (ar_aging_follow_assignments).
CREATE OR REPLACE TRIGGER col_assignments_aging AFTER INSERT OR UPDATE OR DELETE ON col_assignments
    FOR EACH ROW EXECUTE FUNCTION ar_aging_follow_assignments();
