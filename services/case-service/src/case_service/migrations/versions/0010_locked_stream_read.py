"""Platform schema v6: an aggregate's lock taken and its stream read in one round trip
(see `LOCKED_STREAM_READ`)."""

from receivables_platform.db.platform_schema import lock_and_read_streams_in_one_round_trip

revision = "case_service_0010"
down_revision = "case_service_0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    lock_and_read_streams_in_one_round_trip()
