"""Event store, outbox, consumer state and idempotency tables."""

from receivables_platform.db.platform_schema import create_platform_tables

revision = "collections_service_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables()
