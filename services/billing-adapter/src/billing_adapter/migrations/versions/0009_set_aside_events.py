"""Events a consumer set aside instead of applying: `platform_0004` of the shared platform branch
(`receivables_platform/db/platform_versions/0004_set_aside_events.py`).

The platform branch makes the tables; this revision orders them before the
service's next migration and keeps the history of databases stamped here.
"""

revision = "billing_adapter_0009"
down_revision = "billing_adapter_0008"
branch_labels = None
depends_on = "platform_0004"


def upgrade() -> None:
    """Nothing of its own: `platform_0004` does the work."""
