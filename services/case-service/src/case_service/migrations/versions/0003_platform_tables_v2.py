"""Platform tables v2, fewer writes per event: `platform_0002` of the platform branch.

Made by `receivables_platform/db/platform_versions/0002_lighter_writes.py`; this revision
orders it before the service's next migration and keeps the history of the
databases stamped here.
"""

revision = "case_service_0003"
down_revision = "case_service_0002"
branch_labels = None
depends_on = "platform_0002"


def upgrade() -> None:
    """Nothing of its own: `platform_0002` does the work."""
