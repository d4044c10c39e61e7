"""Platform schema v6: an aggregate's lock taken and its stream read in one round trip
(see `LOCKED_STREAM_READ`)."""

from receivables_platform.db.platform_schema import lock_and_read_streams_in_one_round_trip

revision = "collections_service_0014"
down_revision = "collections_service_0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    lock_and_read_streams_in_one_round_trip()
