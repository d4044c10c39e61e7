"""Which account an invoice or payment belongs to: how `/v1/invoices/{id}` finds its stream.

Invoices and payments live inside their account's stream (see
`domain/account.py`), so a request that names only an invoice or payment id
looks its account up here. Written in the same transaction as the event that
creates the entity, so it never points at nothing.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "billing_adapter_0003"
down_revision = "billing_adapter_0002"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE account_entities (
    entity_id   uuid PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('invoice', 'payment')),
    account_id  uuid NOT NULL
);
CREATE INDEX account_entities_by_account ON account_entities (account_id, kind);
"""


def upgrade() -> None:
    execute_script(SCHEMA)
