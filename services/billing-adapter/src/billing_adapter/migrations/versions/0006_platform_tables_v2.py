"""Platform tables v2: fewer writes per appended event (see `PLATFORM_TABLES_V2`)."""

from receivables_platform.db.platform_schema import lighten_platform_writes

revision = "billing_adapter_0006"
down_revision = "billing_adapter_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    lighten_platform_writes()
