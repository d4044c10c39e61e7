"""A dispute case may hold its invoices in several holds: one from its opening, one per later link.

Invoices linked to a case after it opened (an emailed question found to be a
dispute) are held by a hold of their own, so the one-active-hold-per-case
unique index becomes a plain lookup index.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "collections_service_0004"
down_revision = "collections_service_0003"
branch_labels = None
depends_on = None

SCHEMA = """
DROP INDEX one_active_hold_per_case;
CREATE INDEX holds_active_by_case ON holds (case_id) WHERE released_on IS NULL;
"""


def upgrade() -> None:
    execute_script(SCHEMA)
