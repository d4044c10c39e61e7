"""Events a consumer set aside instead of applying (`consumer/set_aside.py`).

One row per event and database, whichever of its consumer groups (or a rebuild's) met it first.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "platform_0004"
down_revision = "platform_0003"
branch_labels = None
depends_on = None

SET_ASIDE_EVENTS = """
CREATE TABLE set_aside_events (
    position         bigserial   PRIMARY KEY,
    source           text        NOT NULL,
    event_id         text        NOT NULL,
    type             text        NOT NULL,
    subject          text        NOT NULL,
    consumer_group   text        NOT NULL,
    topic            text        NOT NULL,
    kafka_partition  integer     NOT NULL,
    kafka_offset     bigint      NOT NULL,
    reason           text        NOT NULL,
    dates            jsonb       NOT NULL,
    data             jsonb       NOT NULL,
    set_aside_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT set_aside_events_event_unique UNIQUE (source, event_id)
);
"""


def upgrade() -> None:
    execute_script(SET_ASIDE_EVENTS)
