"""Platform schema v5: keys the broker refused a record of, set aside so the relay keeps
publishing the others (see `OUTBOX_BLOCKS`)."""

from receivables_platform.db.platform_schema import set_aside_refused_keys

revision = "billing_adapter_0010"
down_revision = "billing_adapter_0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    set_aside_refused_keys()
