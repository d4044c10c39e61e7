"""Platform tables only: the schema the shared package's own tests run on."""

from receivables_platform.db.platform_schema import create_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables()
