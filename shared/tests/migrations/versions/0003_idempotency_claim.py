"""Platform schema v3: an Idempotency-Key claimed and looked up in one round trip
(see `IDEMPOTENCY_CLAIM`)."""

from receivables_platform.db.platform_schema import claim_idempotency_in_one_round_trip

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    claim_idempotency_in_one_round_trip()
