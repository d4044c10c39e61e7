"""Keys the broker refused a record of, set aside: `platform_0005` of the platform branch.

Made by `receivables_platform/db/platform_versions/0005_outbox_blocks.py`; this revision
orders it before the service's next migration and keeps the history of the
databases stamped here.
"""

revision = "case_service_0007"
down_revision = "case_service_0006"
branch_labels = None
depends_on = "platform_0005"


def upgrade() -> None:
    """Nothing of its own: `platform_0005` does the work."""
