"""Follow-ups set by hand: a due time, a note, who set it, and several per account and day.

The cadence still schedules one task per account and day (and one follow-up per
broken promise and day), so that uniqueness stays for those kinds only; a
collector may set as many call-backs as the customer asks for.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "collections_service_0011"
down_revision = "collections_service_0010"
branch_labels = None
depends_on = None

SCHEMA = """
ALTER TABLE tasks DROP CONSTRAINT tasks_account_id_kind_business_date_key;
CREATE UNIQUE INDEX one_system_task_per_account_and_day ON tasks (account_id, kind, business_date)
    WHERE kind IN ('cadence', 'commitment_follow_up');
CREATE UNIQUE INDEX one_open_escalation_per_account ON tasks (account_id)
    WHERE kind = 'escalation' AND status = 'open';
ALTER TABLE tasks ADD COLUMN due_at timestamptz, ADD COLUMN note text,
    ADD COLUMN created_by text;
"""


def upgrade() -> None:
    execute_script(SCHEMA)
