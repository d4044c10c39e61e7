"""Keys the broker refused a record of, set aside: `platform_0005` of the platform branch.

Made by `receivables_platform/db/platform_versions/0005_outbox_blocks.py`; this revision
orders it before the service's next migration and keeps the history of the
databases stamped here.
"""

revision = "collections_service_0010"
down_revision = "collections_service_0009"
branch_labels = None
depends_on = "platform_0005"


def upgrade() -> None:
    """Nothing of its own: `platform_0005` does the work."""
