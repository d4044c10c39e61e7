"""Platform schema v5: keys the broker refused a record of, set aside so the relay keeps
publishing the others (see `OUTBOX_BLOCKS`)."""

from receivables_platform.db.platform_schema import set_aside_refused_keys

revision = "case_service_0007"
down_revision = "case_service_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    set_aside_refused_keys()
