-- ar_aging_follow puts one row per transaction in ar_aging_commits, so this deferred
-- trigger fires once, when the transaction commits. A constraint trigger cannot be
-- replaced in place: it is dropped and made again.
DROP TRIGGER IF EXISTS ar_aging_commits_restep ON ar_aging_commits;
CREATE CONSTRAINT TRIGGER ar_aging_commits_restep AFTER INSERT ON ar_aging_commits
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ar_aging_at_commit();
