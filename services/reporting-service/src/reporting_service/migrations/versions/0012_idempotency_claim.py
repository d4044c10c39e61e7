"""Platform schema v3: an Idempotency-Key claimed and looked up in one round trip
(see `IDEMPOTENCY_CLAIM`)."""

from receivables_platform.db.platform_schema import claim_idempotency_in_one_round_trip

revision = "reporting_service_0012"
down_revision = "reporting_service_0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    claim_idempotency_in_one_round_trip()
