"""Idempotency-Key claims in one round trip: `platform_0003` of the platform branch.

Made by `receivables_platform/db/platform_versions/0003_idempotency_claim.py`; this revision
orders it before the service's next migration and keeps the history of the
databases stamped here.
"""

revision = "reporting_service_0012"
down_revision = "reporting_service_0011"
branch_labels = None
depends_on = "platform_0003"


def upgrade() -> None:
    """Nothing of its own: `platform_0003` does the work."""
