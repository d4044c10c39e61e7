"""Events a consumer set aside: `platform_0004` of the platform branch.

Made by `receivables_platform/db/platform_versions/0004_set_aside_events.py`; this revision
orders it before the service's next migration and keeps the history of the
databases stamped here.
"""

revision = "case_service_0006"
down_revision = "case_service_0005"
branch_labels = None
depends_on = "platform_0004"


def upgrade() -> None:
    """Nothing of its own: `platform_0004` does the work."""
