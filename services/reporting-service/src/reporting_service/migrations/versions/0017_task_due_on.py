"""Follow-ups rescheduled: the due date follow-up timeliness measures against.

A collector who agrees "call back Thursday" instead of Tuesday and calls on
Thursday is on time; `due_on` holds the latest agreed due date (NULL: never
rescheduled, the first `business_date` stands).
"""

from receivables_platform.db.platform_schema import execute_script

revision = "reporting_service_0017"
down_revision = "reporting_service_0016_search"
branch_labels = None
depends_on = None

SCHEMA = """
ALTER TABLE col_tasks ADD COLUMN due_on date;
"""


def upgrade() -> None:
    execute_script(SCHEMA)
