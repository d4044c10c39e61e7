"""Keys the broker refused a record of, set aside: `platform_0005` of the shared platform branch
(`receivables_platform/db/platform_versions/0005_outbox_blocks.py`).

The platform branch makes the tables; this revision orders them before the
service's next migration and keeps the history of databases stamped here.
"""

revision = "case_service_0007"
down_revision = "case_service_0006"
branch_labels = None
depends_on = "platform_0005"


def upgrade() -> None:
    """Nothing of its own: `platform_0005` does the work."""
