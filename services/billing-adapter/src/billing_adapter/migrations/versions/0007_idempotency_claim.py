"""Platform schema v3: an Idempotency-Key claimed and looked up in one round trip
(see `IDEMPOTENCY_CLAIM`)."""

from receivables_platform.db.platform_schema import claim_idempotency_in_one_round_trip

revision = "billing_adapter_0007"
down_revision = "billing_adapter_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    claim_idempotency_in_one_round_trip()
