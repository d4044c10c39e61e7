"""Platform tables v2: fewer writes per appended event: `platform_0002` of the shared platform branch
(`receivables_platform/db/platform_versions/0002_lighter_writes.py`).

The platform branch makes the tables; this revision orders them before the
service's next migration and keeps the history of databases stamped here.
"""

revision = "collections_service_0006"
down_revision = "collections_service_0005"
branch_labels = None
depends_on = "platform_0002"


def upgrade() -> None:
    """Nothing of its own: `platform_0002` does the work."""
