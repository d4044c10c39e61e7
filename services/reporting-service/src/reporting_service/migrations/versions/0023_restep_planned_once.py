"""The functions that re-derive aging and the KPI sums at commit are planned once.

PL/pgSQL planned their statements afresh on every commit, one custom plan per set of
invoices (issue 23: planning the aging restep's statement cost about 13 ms a commit,
more than running it); `SET plan_cache_mode = force_generic_plan` on each function keeps
one plan per connection. Reapplies the current SQL objects (`sql/functions/*_restep.sql`).
"""

from receivables_platform.db.sql_files import apply_sql_files
from reporting_service.sql import CURRENT

revision = "reporting_service_0023"
down_revision = "reporting_service_0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_files(CURRENT)
