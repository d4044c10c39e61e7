"""An aggregate's lock taken and its stream read in one round trip (one statement fewer on
every write).

As with the idempotency claim, the read is a statement of its own inside a VOLATILE
PL/pgSQL function, so its snapshot is taken after the lock is held and includes what the
previous holder committed; one plain statement would read with the snapshot taken before
waiting for the lock. The keys are `hashtext` of namespace and key, as
`db.locks.hold_until_commit` takes them.
"""

from alembic import op

revision = "platform_0006"
down_revision = "platform_0005"
branch_labels = None
depends_on = None

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


def upgrade() -> None:
    op.execute(LOCKED_STREAM_READ)  # one statement: its body's semicolons stay in it
