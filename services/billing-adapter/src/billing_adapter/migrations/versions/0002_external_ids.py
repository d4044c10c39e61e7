"""External ids of the billing system, unique per kind: what makes creates idempotent."""

from receivables_platform.db.platform_schema import execute_script

revision = "billing_adapter_0002"
down_revision = "billing_adapter_0001"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE external_ids (
    kind         text NOT NULL,
    external_id  text NOT NULL,
    internal_id  uuid NOT NULL,
    PRIMARY KEY (kind, external_id)
);
"""


def upgrade() -> None:
    execute_script(SCHEMA)
