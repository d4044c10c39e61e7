"""The platform tables (event store, outbox, consumer state, idempotency): `platform_0001` of the shared platform branch
(`receivables_platform/db/platform_versions/0001_tables.py`).

The platform branch makes the tables; this revision orders them before the
service's next migration and keeps the history of databases stamped here.
"""

revision = "collections_service_0001"
down_revision = None
branch_labels = None
depends_on = "platform_0001"


def upgrade() -> None:
    """Nothing of its own: `platform_0001` does the work."""
