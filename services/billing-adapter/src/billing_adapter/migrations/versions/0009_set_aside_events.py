"""Platform schema v4: events a consumer set aside for a date outside the business dates
(see `SET_ASIDE_EVENTS`)."""

from receivables_platform.db.platform_schema import create_set_aside_events

revision = "billing_adapter_0009"
down_revision = "billing_adapter_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_set_aside_events()
