"""Automatic dunning: templates people manage, one claimed send per account, step and day.

`dunning_sends` is the claim: its primary key is inserted (and committed) before
the SMTP conversation starts, so a second replica, a restart or a retried pass
finds the row and sends nothing. Templates are versioned per name and language;
a policy step names a template, checked when the policy is saved.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "collections_service_0013"
down_revision = "collections_service_0012"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE email_templates (
    name        text NOT NULL,
    language    text NOT NULL,
    version     integer NOT NULL,
    subject     text NOT NULL,
    body        text NOT NULL,
    requires    text[] NOT NULL DEFAULT '{}',
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, language, version)
);

CREATE TABLE dunning_sends (
    account_id        uuid NOT NULL,
    step_id           text NOT NULL,
    business_date     date NOT NULL,
    task_id           uuid NOT NULL,
    status            text NOT NULL,
    claimed_at        timestamptz NOT NULL,
    contact_id        uuid,
    template          text,
    language          text,
    language_requested text,
    recipients        text[] NOT NULL DEFAULT '{}',
    cc                text[] NOT NULL DEFAULT '{}',
    message_id        text,
    error             text,
    finished_at       timestamptz,
    PRIMARY KEY (account_id, step_id, business_date)
);
CREATE INDEX dunning_sends_recent ON dunning_sends (claimed_at);
CREATE UNIQUE INDEX dunning_sends_by_message ON dunning_sends (message_id)
    WHERE message_id IS NOT NULL;

ALTER TABLE accounts ADD COLUMN do_not_contact boolean NOT NULL DEFAULT false,
    ADD COLUMN email_opt_out boolean NOT NULL DEFAULT false;
ALTER TABLE cadence_policies ADD COLUMN catch_up text NOT NULL DEFAULT 'first_not_done';
ALTER TABLE contacts ADD COLUMN language text, ADD COLUMN language_requested text,
    ADD COLUMN email_cc text[] NOT NULL DEFAULT '{}', ADD COLUMN bounced_at timestamptz;

CREATE TABLE collectors (
    collector_id text PRIMARY KEY,
    name         text NOT NULL,
    version      integer NOT NULL DEFAULT 1
);
"""


def upgrade() -> None:
    execute_script(SCHEMA)
