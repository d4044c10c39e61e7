"""Keys the broker refused a record of, set aside so the relay keeps publishing the others.

A key the broker refused a record of for good (too large, invalid) is set aside so the
relay keeps publishing every other key: its refused row and the rows after it wait
(per-key order) until an operator retries it or skips the row with a reason. The
(txid, outbox_id) of the refused row is where the key stops: rows of the key before it
(re-queued after a broker lost data) still go out. Resolved blocks stay as the record.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "platform_0005"
down_revision = "platform_0004"
branch_labels = None
depends_on = None

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


def upgrade() -> None:
    execute_script(OUTBOX_BLOCKS)
