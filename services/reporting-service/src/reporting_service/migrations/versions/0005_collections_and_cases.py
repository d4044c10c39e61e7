"""Read models of collections (assignments, tasks, contacts, promises, auto-pay offers,
escalations) and of cases (lifecycle, root cause, completeness, escalations).

Each projection owns its tables, so one can be rebuilt from its topic without
touching the others; the invoice flags are shared and told apart by `flag`
(collections owns `hold`, cases owns `dispute`). Which team a collector works
in is not in any event: supervisors set it over the API (`collector_teams`).
"""

from receivables_platform.db.platform_schema import execute_script

revision = "reporting_service_0005"
down_revision = "reporting_service_0004"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE col_assignments (
    account_id     uuid PRIMARY KEY,
    collector_id   text NOT NULL,
    effective_on   date NOT NULL
);
CREATE INDEX col_assignments_collector_idx ON col_assignments (collector_id);

CREATE TABLE collector_teams (
    collector_id  text PRIMARY KEY,
    team          text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE col_tasks (
    task_id          uuid PRIMARY KEY,
    account_id       uuid,
    collector_id     text,
    kind             text,
    business_date    date,
    escalates        boolean,
    completed_on     date,
    completed_by     text,
    outcome          text,
    cancelled_on     date,
    times_missed     integer NOT NULL DEFAULT 0
);
CREATE INDEX col_tasks_business_date_idx ON col_tasks (business_date);

-- the days a task was due: its business date and every day it was carried over to
CREATE TABLE col_task_due_days (
    task_id   uuid NOT NULL,
    due_date  date NOT NULL,
    PRIMARY KEY (task_id, due_date)
);
CREATE INDEX col_task_due_days_date_idx ON col_task_due_days (due_date);

CREATE TABLE col_contacts (
    contact_id     uuid PRIMARY KEY,
    account_id     uuid NOT NULL,
    collector_id   text NOT NULL,
    channel        text NOT NULL,
    outcome        text NOT NULL,
    business_date  date NOT NULL,
    attempted_at   timestamptz NOT NULL
);
CREATE INDEX col_contacts_account_idx ON col_contacts (account_id, business_date);

CREATE TABLE col_commitments (
    commitment_id   uuid PRIMARY KEY,
    account_id      uuid,
    collector_id    text,
    amount_minor    bigint,
    currency        text,
    promised_date   date,
    made_on         date,
    status          text NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'kept', 'partially_kept', 'broken', 'cancelled')),
    paid_minor      bigint,
    judged_on       date
);
CREATE INDEX col_commitments_account_idx ON col_commitments (account_id, made_on);

CREATE TABLE col_autopay_offers (
    offer_id       uuid PRIMARY KEY,
    account_id     uuid NOT NULL,
    collector_id   text,
    offered_on     date,
    outcome        text,
    answered_on    date,
    enrolled_on    date
);

CREATE TABLE escalations (
    escalation_id  text PRIMARY KEY,
    origin         text NOT NULL CHECK (origin IN ('collections', 'case')),
    account_id     uuid,
    case_id        uuid,
    collector_id   text,
    cause          text NOT NULL,
    escalated_on   date NOT NULL,
    due_date       date,
    answered_on    date,
    overdue        boolean
);
CREATE INDEX escalations_date_idx ON escalations (escalated_on);

CREATE TABLE cases (
    case_id             uuid PRIMARY KEY,
    case_number         text,
    account_id          uuid,
    type                text,
    origin              text,
    priority            text,
    owner_id            text,
    status              text,
    invoice_ids         uuid[] NOT NULL DEFAULT '{}',
    opened_at           timestamptz,
    resolved_at         timestamptz,
    closed_at           timestamptz,
    reopened_count      integer NOT NULL DEFAULT 0,
    root_cause_code     text,
    root_cause_name     text,
    documentation_complete boolean,
    checklist_satisfied integer,
    checklist_required  integer,
    sla_breached        boolean NOT NULL DEFAULT false
);
CREATE INDEX cases_opened_idx ON cases (opened_at);
CREATE INDEX cases_account_idx ON cases (account_id);
"""


def upgrade() -> None:
    execute_script(SCHEMA)
