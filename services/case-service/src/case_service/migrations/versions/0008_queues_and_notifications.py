"""Team inboxes, the inbound-email queue, next actions, and notifications.

`case_escalations` learns who claimed and who answered an escalation (the team
inbox's filters), `cases` the owner's next action (the reminder sweep's index).
`account_collectors` is fed from `collections.account.assigned`, so an
inbound-email case can go to the account's collector without asking
collections. `inbound_rotation` is one row whose lock serialises the round
robin among agents. `notification_recipients` holds each person's addresses and
preferences; `notifications` is every decided notification under its unique
key: the row is claimed before anything is sent, which is what keeps a send to
once across dispatchers and restarts.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "case_service_0008"
down_revision = "case_service_0007"
branch_labels = None
depends_on = None

SCHEMA = """
ALTER TABLE case_escalations
    ADD COLUMN claimed_by  text,
    ADD COLUMN claimed_at  timestamptz,
    ADD COLUMN answered_by text;
CREATE INDEX case_escalations_inbox ON case_escalations (team, due_date, escalation_id);

ALTER TABLE cases
    ADD COLUMN next_action_on date,
    ADD COLUMN next_action    text;
CREATE INDEX cases_next_action_due ON cases (next_action_on)
    WHERE next_action_on IS NOT NULL AND status <> 'closed';
CREATE INDEX cases_unassigned ON cases (origin, opened_at, case_id)
    WHERE owner_id IS NULL AND status <> 'closed';

CREATE TABLE account_collectors (
    account_id   uuid PRIMARY KEY,
    collector_id text NOT NULL
);

CREATE TABLE inbound_rotation (
    single       boolean PRIMARY KEY DEFAULT true CHECK (single),
    last_user_id text
);
INSERT INTO inbound_rotation (single, last_user_id) VALUES (true, NULL);

CREATE TABLE notification_recipients (
    user_id     text PRIMARY KEY,
    email       text,
    webhook_url text,
    channels    jsonb NOT NULL DEFAULT '{}'::jsonb,
    teams       text[] NOT NULL DEFAULT '{}',
    roles       text[] NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_recipients_by_team ON notification_recipients USING gin (teams);

CREATE TABLE notifications (
    notification_key text PRIMARY KEY,
    kind             text NOT NULL,
    recipient        text NOT NULL,
    channel          text NOT NULL CHECK (channel IN ('email', 'webhook', 'digest')),
    address          text NOT NULL,
    subject          text NOT NULL,
    body             text NOT NULL,
    case_id          uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'digested')),
    attempts         integer NOT NULL DEFAULT 0,
    not_before       timestamptz NOT NULL DEFAULT now(),
    claimed_by       text,
    claimed_at       timestamptz,
    sent_at          timestamptz,
    last_error       text,
    digest_key       text
);
CREATE INDEX notifications_due ON notifications (not_before)
    WHERE status = 'pending' AND channel <> 'digest';
CREATE INDEX notifications_digest ON notifications (recipient, created_at)
    WHERE status = 'pending' AND channel = 'digest';
"""


def upgrade() -> None:
    execute_script(SCHEMA)
