"""Platform schema v4: events a consumer set aside for a date outside the business dates
(see `SET_ASIDE_EVENTS`), which analysts read in the view `reporting.set_aside_events`
(`reporting_service/sql/views/set_aside_events.sql`).

An analyst whose totals miss an invoice the billing system shows finds it here: it
was set aside, not lost, and is in no other view until billing corrects its dates.
"""

from receivables_platform.db.platform_schema import create_set_aside_events

revision = "reporting_service_0014"
down_revision = "reporting_service_0013_analyst"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_set_aside_events()
