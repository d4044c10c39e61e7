"""Approvals waiting for a supervisor: the list, kept with the approval's events.

The approval streams are the record; this row per approval is written in the
transaction that appends each of its events, so "what waits for me" is one
indexed query and never disagrees with the streams.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "billing_adapter_0011"
down_revision = "billing_adapter_0010"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE approvals (
    approval_id     uuid PRIMARY KEY,
    status          text NOT NULL,
    action          text NOT NULL,
    account_id      uuid NOT NULL,
    invoice_id      uuid NOT NULL,
    amount_minor    bigint NOT NULL,
    currency        text NOT NULL,
    requested_by    text NOT NULL,
    requested_at    timestamptz NOT NULL,
    decided_by      text,
    decided_at      timestamptz,
    version         integer NOT NULL
);
CREATE INDEX approvals_by_status ON approvals (status, requested_at, approval_id);
"""


def upgrade() -> None:
    execute_script(SCHEMA)
