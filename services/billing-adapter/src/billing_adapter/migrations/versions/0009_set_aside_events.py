"""Events a consumer set aside: `platform_0004` of the platform branch.

Made by `receivables_platform/db/platform_versions/0004_set_aside_events.py`; this revision
orders it before the service's next migration and keeps the history of the
databases stamped here.
"""

revision = "billing_adapter_0009"
down_revision = "billing_adapter_0008"
branch_labels = None
depends_on = "platform_0004"


def upgrade() -> None:
    """Nothing of its own: `platform_0004` does the work."""
