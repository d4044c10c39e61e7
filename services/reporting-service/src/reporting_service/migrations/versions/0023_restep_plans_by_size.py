"""A commit's restep runs under the plan kept for its connection, a large one is planned.

PL/pgSQL planned each restep statement afresh for every commit (a custom plan for the
ids it got): for the few invoices of a consumer's commit, planning took about twice as
long as running. `ar_aging_plan_for` now picks, by the number of ids, the connection's kept
plan for a few and a plan of their own for many (`sql/functions/ar_aging_at_commit.sql`).
"""

from receivables_platform.db.sql_files import apply_sql_files
from reporting_service.sql import CURRENT

revision = "reporting_service_0023"
down_revision = "reporting_service_0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_files(CURRENT)
