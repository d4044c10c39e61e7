"""The analysts' interface: documented views in schema `reporting`, and a read-only role.

Analysts query views, never the projection tables, so projections can be
rebuilt or reshaped without breaking their SQL; the views are defined one file
each in `reporting_service/sql/views/`, applied by the newest migration. The
`analyst` role is a group role (NOLOGIN): platform teams grant it to their
analysts' login roles. Views run with their owner's rights, so the role needs no
access to the raw tables.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "reporting_service_0003"
down_revision = "reporting_service_0002"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS reporting;

-- one line: the script is split into statements at a semicolon ending a line
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'analyst') THEN CREATE ROLE analyst NOLOGIN; END IF; END $$;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM analyst;
GRANT USAGE ON SCHEMA reporting TO analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO analyst;
"""


def upgrade() -> None:
    execute_script(SCHEMA)
