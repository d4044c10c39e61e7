"""The platform tables: `platform_0001` of the platform branch.

Made by `receivables_platform/db/platform_versions/0001_tables.py`; this revision
orders it before the service's next migration and keeps the history of the
databases stamped here.
"""

revision = "collections_service_0001"
down_revision = None
branch_labels = None
depends_on = "platform_0001"


def upgrade() -> None:
    """Nothing of its own: `platform_0001` does the work."""
