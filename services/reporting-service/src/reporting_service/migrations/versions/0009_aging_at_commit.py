"""Aging steps re-derived once per transaction, at commit, instead of after every statement.

A statement notes the invoices it touched in `ar_aging_pending` and its
transaction in `ar_aging_commits`; a deferred trigger on the latter re-derives them
all at commit (`reporting_service/sql/functions/ar_aging_at_commit.sql`).
"""

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


def upgrade() -> None:
    execute_script(SCHEMA)
