"""A create claims its external id, indexes its entity and reads its account locked, at once.

An invoice or payment create took two round trips before deciding: the claim of
the billing system's id with the entity's index row, then the account's writers'
lock with the read of its stream (`events_of_locked_stream`, platform_0006). One
function does both in one statement (issue 23). When the id is already taken it
writes nothing, takes no lock and returns no events; the caller then looks the id
up. The lock is taken after the claim, as before, so a duplicate create waits on
the claim and never holds an account's lock while it does.
"""

from alembic import op

revision = "billing_adapter_0013"
down_revision = "billing_adapter_0012"
branch_labels = None
depends_on = "platform_0006"

SCHEMA = """
CREATE FUNCTION claim_entity_and_lock(claim_kind text, claim_external_id text, entity uuid,
                                      owner uuid, lock_namespace text, lock_key text,
                                      wanted text, after_version integer)
RETURNS SETOF events
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    WITH claimed AS (
        INSERT INTO external_ids (kind, external_id, internal_id)
        VALUES (claim_kind, claim_external_id, entity)
        ON CONFLICT DO NOTHING RETURNING internal_id
    )
    INSERT INTO account_entities (entity_id, kind, account_id)
    SELECT internal_id, claim_kind, owner FROM claimed;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM events_of_locked_stream(lock_namespace, lock_key, wanted,
                                                       after_version);
END
$$
"""


def upgrade() -> None:
    op.execute(SCHEMA)  # one statement: its body's semicolons stay in it
