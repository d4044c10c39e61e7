"""Pay links belong to an account too: a payment through one finds the account by the link.

`checkout.session.completed` names the Checkout Session and our pay link id,
not the account, so the link's account is looked up here like an invoice's.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "billing_adapter_0012"
down_revision = "billing_adapter_0011"
branch_labels = None
depends_on = None

SCHEMA = """
ALTER TABLE account_entities DROP CONSTRAINT account_entities_kind_check;
ALTER TABLE account_entities ADD CONSTRAINT account_entities_kind_check
    CHECK (kind IN ('invoice', 'payment', 'pay_link'));
"""


def upgrade() -> None:
    execute_script(SCHEMA)
