"""Aging steps re-derived once per transaction, at commit, instead of after every statement.

The consumer runner applies a poll's records in one transaction, one or two
statements per event. Re-deriving the touched invoices' steps after each
statement (0008) cost more than the statements themselves. Now a statement
only notes which invoices it touched; a deferred trigger re-derives them all
at commit, set-based, still inside the transaction that wrote the rows. The
advisory lock is then held only from that moment to the commit.
"""

from alembic import op

from receivables_platform.db.platform_schema import execute_script

revision = "reporting_service_0009"
down_revision = "reporting_service_0008"
branch_labels = None
depends_on = None

# unlogged: both are empty whenever a transaction has committed
SCHEMA = """
CREATE UNLOGGED TABLE ar_aging_pending (invoice_id uuid NOT NULL);
CREATE UNLOGGED TABLE ar_aging_commits (txid bigint PRIMARY KEY)
"""

FOLLOW = """
CREATE OR REPLACE FUNCTION ar_aging_follow() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO ar_aging_pending SELECT DISTINCT invoice_id FROM changed;
    INSERT INTO ar_aging_commits VALUES (txid_current()) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $fn$
"""

AT_COMMIT = """
CREATE FUNCTION ar_aging_at_commit() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    touched uuid[];
BEGIN
    WITH noted AS (DELETE FROM ar_aging_pending RETURNING invoice_id)
    SELECT coalesce(array_agg(DISTINCT invoice_id), '{}') INTO touched FROM noted;
    DELETE FROM ar_aging_commits WHERE txid = NEW.txid;
    PERFORM ar_aging_restep(touched);
    RETURN NULL;
END $fn$
"""

# one row per transaction in ar_aging_commits, so this fires once, when it commits
TRIGGER = """
CREATE CONSTRAINT TRIGGER ar_aging_commits_restep AFTER INSERT ON ar_aging_commits
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ar_aging_at_commit()
"""


def upgrade() -> None:
    execute_script(SCHEMA)
    op.execute(FOLLOW)
    op.execute(AT_COMMIT)
    op.execute(TRIGGER)
