"""Views of the `reporting` schema readable by `analyst` as soon as they are made.

New views are granted to `analyst` by default privileges, so a later
migration's view is readable without repeating the grant. The views over the
read models of 0004 and 0005, and `reporting.open_invoices_as_of(d)`, are in
`reporting_service/sql/` (views/, functions/), applied by the newest migration.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "reporting_service_0006"
down_revision = "reporting_service_0005"
branch_labels = None
depends_on = None

SCHEMA = """
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO analyst;

GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO analyst;
"""


def upgrade() -> None:
    execute_script(SCHEMA)
