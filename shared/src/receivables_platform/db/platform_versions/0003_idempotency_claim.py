"""An Idempotency-Key claimed and its stored response read in one round trip.

A VOLATILE PL/pgSQL function takes a new snapshot for each statement it runs, so the
lookup after the lock sees a response its last holder committed a moment before;
in one plain statement both would share the snapshot taken before the lock.
"""

from alembic import op

revision = "platform_0003"
down_revision = "platform_0002"
branch_labels = None
depends_on = None

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


def upgrade() -> None:
    op.execute(IDEMPOTENCY_CLAIM)  # one statement: its body's semicolons stay in it
