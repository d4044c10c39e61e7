"""Case read tables written with the events, and case-service's own view of billing.

`cases`, `case_escalations` and `case_message_ids` are derived from each case's
state in the transaction that appends its events, so search, the overdue list
and email threading never disagree with the streams. `billing_*` is fed from
`billing.events.v1` by the consumer (accounts, contacts by email, invoices),
so opening a case can refuse an unknown account or invoice without calling
billing. `case_agents`, `root_cause_categories` and `sops` are admin data.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "case_service_0002"
down_revision = "case_service_0001"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE SEQUENCE case_number_seq;

CREATE TABLE cases (
    case_id         uuid PRIMARY KEY,
    case_number     text NOT NULL UNIQUE,
    account_id      uuid,
    type            text NOT NULL,
    origin          text NOT NULL,
    priority        text NOT NULL,
    status          text NOT NULL,
    owner_id        text,
    subject         text NOT NULL,
    root_cause_code text,
    opened_at       timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    closed_at       timestamptz,
    sla_due_at      timestamptz NOT NULL,
    sla_paused      boolean NOT NULL,
    sla_breached    boolean NOT NULL,
    complete        boolean NOT NULL,
    version         integer NOT NULL
);
CREATE INDEX cases_by_status ON cases (status, opened_at, case_id);
CREATE INDEX cases_by_owner ON cases (owner_id, opened_at, case_id);
CREATE INDEX cases_by_account ON cases (account_id, opened_at, case_id);
CREATE INDEX cases_sla_running ON cases (sla_due_at)
    WHERE NOT sla_paused AND NOT sla_breached;

CREATE TABLE case_escalations (
    escalation_id uuid PRIMARY KEY,
    case_id       uuid NOT NULL REFERENCES cases (case_id),
    team          text NOT NULL,
    question      text NOT NULL,
    due_date      date NOT NULL,
    escalated_by  text NOT NULL,
    escalated_at  timestamptz NOT NULL,
    answered_at   timestamptz
);
CREATE INDEX case_escalations_open ON case_escalations (due_date) WHERE answered_at IS NULL;

CREATE TABLE case_message_ids (
    message_id text PRIMARY KEY,
    case_id    uuid NOT NULL REFERENCES cases (case_id)
);

CREATE TABLE billing_accounts (
    account_id uuid PRIMARY KEY,
    name       text NOT NULL,
    currency   text NOT NULL
);

CREATE TABLE billing_contacts (
    account_id uuid NOT NULL,
    email      text NOT NULL,
    name       text,
    PRIMARY KEY (account_id, email)
);
CREATE INDEX billing_contacts_by_email ON billing_contacts (email);

CREATE TABLE billing_invoices (
    invoice_id  uuid PRIMARY KEY,
    account_id  uuid NOT NULL,
    external_id text NOT NULL,
    currency    text NOT NULL
);

CREATE TABLE case_agents (
    user_id    text PRIMARY KEY,
    name       text NOT NULL,
    email      text,
    active     boolean NOT NULL DEFAULT true
);

CREATE TABLE root_cause_categories (
    category_id uuid PRIMARY KEY,
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz
);

CREATE TABLE sops (
    sop_id       uuid PRIMARY KEY,
    title        text NOT NULL,
    body         text,
    link         text,
    category_ids uuid[] NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (body IS NOT NULL OR link IS NOT NULL)
);
CREATE INDEX sops_by_category ON sops USING gin (category_ids);
"""


def upgrade() -> None:
    execute_script(SCHEMA)
