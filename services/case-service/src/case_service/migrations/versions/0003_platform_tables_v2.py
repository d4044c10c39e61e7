"""Platform tables v2: fewer writes per appended event (see `PLATFORM_TABLES_V2`)."""

from receivables_platform.db.platform_schema import lighten_platform_writes

revision = "case_service_0003"
down_revision = "case_service_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    lighten_platform_writes()
