"""Bulk import jobs and their rejected rows, so a job's status outlives the process that ran it."""

from receivables_platform.db.platform_schema import execute_script

revision = "billing_adapter_0005"
down_revision = "billing_adapter_0004"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE import_jobs (
    job_id        uuid PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('accounts', 'invoices', 'payments')),
    format        text NOT NULL CHECK (format IN ('csv', 'jsonl')),
    state         text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    submitted_by  text NOT NULL,
    idempotency_key text,
    rows_read     bigint NOT NULL DEFAULT 0,
    imported      bigint NOT NULL DEFAULT 0,
    updated       bigint NOT NULL DEFAULT 0,
    unchanged     bigint NOT NULL DEFAULT 0,
    rejected      bigint NOT NULL DEFAULT 0,
    failure       text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    heartbeat_at  timestamptz,
    UNIQUE (submitted_by, idempotency_key)
);

CREATE TABLE import_errors (
    id          bigserial PRIMARY KEY,
    job_id      uuid NOT NULL REFERENCES import_jobs ON DELETE CASCADE,
    row_number  bigint NOT NULL,
    line        bigint,
    field       text,
    reason      text NOT NULL
);
CREATE INDEX import_errors_by_job ON import_errors (job_id, id);
"""


def upgrade() -> None:
    execute_script(SCHEMA)
