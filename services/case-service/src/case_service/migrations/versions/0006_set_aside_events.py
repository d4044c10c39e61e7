"""Platform schema v4: events a consumer set aside for a date outside the business dates
(see `SET_ASIDE_EVENTS`)."""

from receivables_platform.db.platform_schema import create_set_aside_events

revision = "case_service_0006"
down_revision = "case_service_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_set_aside_events()
