"""The tables every service's database has: event store, outbox, consumer state, idempotency.

Each service's first migration calls `create_platform_tables`; a later change
to these tables is a new function here plus one migration per service that
calls it, so every service database stays on the same platform schema.
"""

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


# Fewer writes per event appended (a bulk import appends a million): the outbox's
# reference to its event was checked by a trigger that locked the event's row (a
# WAL record per event) although the store writes both in one statement and never
# deletes an event; nothing reads events by subject; and the index the relay's
# re-queue of a lost partition uses holds only rows that were sent, so appending
# an event does not write to it.
PLATFORM_TABLES_V2 = """
ALTER TABLE outbox DROP CONSTRAINT outbox_event_position_fkey;
DROP INDEX events_subject_idx;
DROP INDEX outbox_partition_idx;
CREATE INDEX outbox_partition_idx ON outbox (topic, kafka_partition)
    WHERE kafka_partition IS NOT NULL;
"""


def create_platform_tables() -> None:
    """Run inside an alembic migration of the calling service."""
    execute_script(PLATFORM_TABLES_V1)


def lighten_platform_writes() -> None:
    """Platform tables v2 (see PLATFORM_TABLES_V2), in a migration of every service."""
    execute_script(PLATFORM_TABLES_V2)


def execute_script(sql: str) -> None:
    """asyncpg prepares each statement, so a script goes in one statement at a time."""
    from alembic import op

    for statement in sql.split(";\n"):
        if statement.strip():
            op.execute(statement)


# Claiming an Idempotency-Key and reading a stored response in one round trip. A
# VOLATILE PL/pgSQL function takes a new snapshot for each statement it runs, so the
# lookup after the lock sees a response its last holder committed a moment before;
# in one plain statement both would share the snapshot taken before the lock.
IDEMPOTENCY_CLAIM = """
CREATE FUNCTION idempotency_claim(lock_key bigint, caller text, wanted text)
RETURNS TABLE (claimed boolean, request_hash text, status_code integer,
               response_body bytea, response_headers jsonb)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(lock_key) THEN
        RETURN QUERY SELECT false, NULL::text, NULL::integer, NULL::bytea, NULL::jsonb;
        RETURN;
    END IF;
    RETURN QUERY
        SELECT true, k.request_hash, k.status_code, k.response_body, k.response_headers
        FROM (SELECT 1) AS one
        LEFT JOIN idempotency_keys AS k ON k.principal = caller AND k.key = wanted;
END
$$
"""


def claim_idempotency_in_one_round_trip() -> None:
    """Platform schema v3 (see IDEMPOTENCY_CLAIM), in a migration of every service."""
    from alembic import op

    op.execute(IDEMPOTENCY_CLAIM)  # one statement: its body's semicolons stay in it


# Events a consumer set aside instead of applying (`consumer/set_aside.py`): one row per
# event and database, whichever of its consumer groups (or a rebuild's) met it first.
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


def create_set_aside_events() -> None:
    """Platform schema v4 (see SET_ASIDE_EVENTS), in a migration of every service."""
    execute_script(SET_ASIDE_EVENTS)


# A key the broker refused a record of for good (too large, invalid) is set aside so the
# relay keeps publishing every other key: its refused row and the rows after it wait
# (per-key order) until an operator retries it or skips the row with a reason. The
# (txid, outbox_id) of the refused row is where the key stops: rows of the key before it
# (re-queued after a broker lost data) still go out. Resolved blocks stay as the record.
OUTBOX_BLOCKS = """
CREATE TABLE outbox_blocks (
    id           bigserial   PRIMARY KEY,
    topic        text        NOT NULL,
    message_key  text        NOT NULL,
    outbox_id    bigint      NOT NULL,
    txid         xid8        NOT NULL,
    error        text        NOT NULL,
    blocked_at   timestamptz NOT NULL DEFAULT now(),
    resolution   text        CHECK (resolution IN ('retry', 'skip')),
    reason       text,
    resolved_by  text,
    resolved_at  timestamptz,
    CHECK ((resolution IS NULL) = (resolved_at IS NULL))
);
CREATE UNIQUE INDEX outbox_blocks_open_idx ON outbox_blocks (topic, message_key)
    WHERE resolved_at IS NULL;
"""


def set_aside_refused_keys() -> None:
    """Platform schema v5 (see OUTBOX_BLOCKS), in a migration of every service."""
    execute_script(OUTBOX_BLOCKS)


# A writer of an aggregate takes the aggregate's lock and reads its stream in one round
# trip (issue 23: one statement fewer on every write). As in `IDEMPOTENCY_CLAIM`, the read
# is a statement of its own inside a VOLATILE PL/pgSQL function, so its snapshot is taken
# after the lock is held and includes what the previous holder committed; one plain
# statement would read with the snapshot taken before waiting for the lock. The keys are
# `hashtext` of namespace and key, as `db.locks.hold_until_commit` takes them.
LOCKED_STREAM_READ = """
CREATE FUNCTION events_of_locked_stream(lock_namespace text, lock_key text, wanted text,
                                        after_version integer)
RETURNS SETOF events
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(lock_namespace), hashtext(lock_key));
    RETURN QUERY
        SELECT * FROM events AS e
        WHERE e.stream_id = wanted AND e.version > after_version ORDER BY e.version;
END
$$
"""


def lock_and_read_streams_in_one_round_trip() -> None:
    """Platform schema v6 (see LOCKED_STREAM_READ), in a migration of every service."""
    from alembic import op

    op.execute(LOCKED_STREAM_READ)  # one statement: its body's semicolons stay in it
