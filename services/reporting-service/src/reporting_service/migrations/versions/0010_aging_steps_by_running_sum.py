"""Aging steps derived with one running sum per invoice (`ar_aging_steps_of`).

The function is defined in `reporting_service/sql/functions/ar_aging_steps_of.sql`
and applied by the newest migration; this revision stays so that databases which
passed through it keep an unbroken history.
"""

revision = "reporting_service_0010"
down_revision = "reporting_service_0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing left to do here: see the module docstring."""
