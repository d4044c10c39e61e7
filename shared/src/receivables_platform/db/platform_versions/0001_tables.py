"""The tables every service's database has: event store, outbox, consumer state, idempotency.

The first revision of the platform branch, which every service's database applies
once beside its own chain (`db/migrate.py`). A later change to these tables is a
new revision of this branch, and reaches every service's database without a
migration of its own.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "platform_0001"
down_revision = None
branch_labels = ("platform",)
depends_on = None

PLATFORM_TABLES_V1 = """
CREATE TABLE events (
    position        bigserial PRIMARY KEY,
    event_id        uuid        NOT NULL UNIQUE,
    stream_id       text        NOT NULL,
    stream_type     text        NOT NULL,
    version         integer     NOT NULL CHECK (version > 0),
    type            text        NOT NULL,
    schema_version  integer     NOT NULL,
    source          text        NOT NULL,
    subject         text        NOT NULL,
    partition_key   text        NOT NULL,
    data            jsonb       NOT NULL,
    correlation_id  text,
    causation_id    text,
    traceparent     text,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_stream_version_unique UNIQUE (stream_id, version)
);
CREATE INDEX events_subject_idx ON events (subject, position);

-- One row per event to publish. txid orders rows by writing transaction, and
-- the relay reads only below pg_snapshot_xmin so a transaction that commits
-- late is never overtaken by a later one on the same key.
CREATE TABLE outbox (
    id               bigserial PRIMARY KEY,
    txid             xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_position   bigint      NOT NULL REFERENCES events (position),
    topic            text        NOT NULL,
    message_key      text        NOT NULL,
    published_at     timestamptz,
    kafka_partition  integer,
    kafka_offset     bigint
);
CREATE INDEX outbox_unpublished_idx ON outbox (txid, id) WHERE published_at IS NULL;
CREATE INDEX outbox_partition_idx ON outbox (topic, kafka_partition);

-- Highest offset the broker acknowledged per partition: an ack or end offset
-- below it means the broker lost data, and the relay re-publishes.
CREATE TABLE relay_partitions (
    topic         text    NOT NULL,
    partition     integer NOT NULL,
    acked_offset  bigint  NOT NULL,
    PRIMARY KEY (topic, partition)
);

-- Consumer positions, written in the same transaction as the read-model change.
-- last_event_id is the CloudEvents id of the record at next_offset - 1 (a digest
-- of key and value for a record without one): when that record is no longer
-- there, the broker lost or rewrote the partition and the consumer reads it again.
CREATE TABLE consumer_offsets (
    consumer_group  text        NOT NULL,
    topic           text        NOT NULL,
    partition       integer     NOT NULL,
    next_offset     bigint      NOT NULL,
    last_event_id   text,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);

-- A relay re-send arrives at a new offset: (source, id) is what makes it a duplicate.
CREATE TABLE processed_events (
    consumer_group  text        NOT NULL,
    source          text        NOT NULL,
    event_id        text        NOT NULL,
    processed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, source, event_id)
);

-- A row is a finished response, written in the route's own transaction; a
-- request in flight holds an advisory lock instead (web/idempotency.py), so a
-- crash leaves no half-claimed key behind.
CREATE TABLE idempotency_keys (
    principal       text        NOT NULL,
    key             text        NOT NULL,
    method          text        NOT NULL,
    path            text        NOT NULL,
    request_hash    text        NOT NULL,
    status_code     integer     NOT NULL,
    response_body   bytea       NOT NULL,
    response_headers jsonb      NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
"""


def upgrade() -> None:
    execute_script(PLATFORM_TABLES_V1)
