"""Platform tables v2: fewer writes per appended event (see `PLATFORM_TABLES_V2`)."""

from receivables_platform.db.platform_schema import lighten_platform_writes

revision = "reporting_service_0011"
down_revision = "reporting_service_0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    lighten_platform_writes()
