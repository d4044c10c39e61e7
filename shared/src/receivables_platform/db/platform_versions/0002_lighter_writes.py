"""Platform tables v2: fewer writes per event appended (a bulk import appends a million).

The outbox's
reference to its event was checked by a trigger that locked the event's row (a
WAL record per event) although the store writes both in one statement and never
deletes an event; nothing reads events by subject; and the index the relay's
re-queue of a lost partition uses holds only rows that were sent, so appending
an event does not write to it.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "platform_0002"
down_revision = "platform_0001"
branch_labels = None
depends_on = None

PLATFORM_TABLES_V2 = """
ALTER TABLE outbox DROP CONSTRAINT outbox_event_position_fkey;
DROP INDEX events_subject_idx;
DROP INDEX outbox_partition_idx;
CREATE INDEX outbox_partition_idx ON outbox (topic, kafka_partition)
    WHERE kafka_partition IS NOT NULL;
"""


def upgrade() -> None:
    execute_script(PLATFORM_TABLES_V2)
