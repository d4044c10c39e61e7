"""A collector's portfolio is read a page at a time by name: an index in that order."""

from receivables_platform.db.platform_schema import execute_script

revision = "collections_service_0005"
down_revision = "collections_service_0004"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE INDEX accounts_portfolio_by_name ON accounts (collector_id, (coalesce(name, '')),
                                                     account_id);
"""


def upgrade() -> None:
    execute_script(SCHEMA)
