"""Attachment contents, content-addressed by SHA-256, for deployments without object storage.

A customer's PDF was kept only as its hash in the note's event; the bytes now live
here (or in S3-compatible storage when `OBJECT_STORE_URL` is set), once per distinct
content however many emails or cases bring it. What is attached to which case stays
in the case's events: this table only answers "the bytes of this hash".
"""

from receivables_platform.db.platform_schema import execute_script

revision = "case_service_0009"
down_revision = "case_service_0008"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE attachment_blobs (
    sha256      text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content     bytea NOT NULL,
    size_bytes  bigint NOT NULL CHECK (size_bytes = octet_length(content)),
    stored_at   timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE attachment_blobs ALTER COLUMN content SET STORAGE EXTERNAL;
"""


def upgrade() -> None:
    execute_script(SCHEMA)
