"""Promises as plans: dated instalments, and how many of them are judged so far.

Each instalment is judged once (`commitment.instalment_judged`); the count
lets the next evaluation start after the last one judged.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "collections_service_0012"
down_revision = "collections_service_0011"
branch_labels = None
depends_on = None

SCHEMA = """
ALTER TABLE commitments ADD COLUMN instalments jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN instalments_judged integer NOT NULL DEFAULT 0;
"""


def upgrade() -> None:
    execute_script(SCHEMA)
