"""Platform tables v2: fewer writes per appended event (see `PLATFORM_TABLES_V2`)."""

from receivables_platform.db.platform_schema import lighten_platform_writes

revision = "collections_service_0006"
down_revision = "collections_service_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    lighten_platform_writes()
