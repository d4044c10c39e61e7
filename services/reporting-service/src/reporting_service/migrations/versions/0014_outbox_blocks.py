"""Platform schema v4: keys the broker refused a record of, set aside so the relay keeps
publishing the others (see `OUTBOX_BLOCKS`)."""

from receivables_platform.db.platform_schema import set_aside_refused_keys

revision = "reporting_service_0014"
down_revision = "reporting_service_0013_analyst"
branch_labels = None
depends_on = None


def upgrade() -> None:
    set_aside_refused_keys()
