"""The collections model: its own view of balances, portfolios, policies, tasks, promises, holds.

Balances come from billing events as ledger entries keyed by what caused them
(`issued`, `adjustment:<id>`, `applied:<payment>`, ...): an invoice's balance
is the sum of its entries, so events applied in any order or twice give the
same answer. Invoice and account rows are upserts that keep whatever an
earlier event already said.

The other tables are projections of this service's own event streams, written
in the same transaction as the events (tasks, commitments, holds, offers), or
plain reference data with a version for ETags (policies, portfolio rules).
"""

from receivables_platform.db.platform_schema import execute_script

revision = "collections_service_0002"
down_revision = "collections_service_0001"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE accounts (
    account_id         uuid PRIMARY KEY,
    registered         boolean NOT NULL DEFAULT false,
    external_id        text,
    name               text,
    currency           text,
    segment            text,
    contacts           jsonb NOT NULL DEFAULT '[]',
    payment_terms_days integer,
    autopay            boolean NOT NULL DEFAULT false,
    autopay_since      date,
    collector_id       text,
    assigned_by_rule   uuid,
    at_risk_since      date,
    language           text NOT NULL DEFAULT 'en',
    preferred_channel  text,
    contact_hours      text,
    tags               text[] NOT NULL DEFAULT '{}',
    version            integer NOT NULL DEFAULT 0
);
CREATE INDEX accounts_by_collector ON accounts (collector_id);

CREATE TABLE invoices (
    invoice_id   uuid PRIMARY KEY,
    account_id   uuid NOT NULL,
    issued       boolean NOT NULL DEFAULT false,
    external_id  text,
    currency     text,
    issue_date   date,
    due_date     date,
    total_minor  bigint,
    closed       text CHECK (closed IN ('voided', 'written_off'))
);
CREATE INDEX invoices_by_account ON invoices (account_id);

CREATE TABLE invoice_ledger (
    invoice_id    uuid NOT NULL,
    account_id    uuid NOT NULL,
    entry_key     text NOT NULL,
    amount_minor  bigint NOT NULL,
    effective_on  date NOT NULL,
    PRIMARY KEY (invoice_id, entry_key)
);
CREATE INDEX invoice_ledger_by_account ON invoice_ledger (account_id, effective_on);

CREATE VIEW invoice_balances AS
SELECT i.invoice_id, i.account_id, i.external_id, i.currency, i.issue_date, i.due_date,
       i.total_minor, i.closed,
       CASE WHEN i.closed = 'voided' THEN 0
            ELSE greatest(coalesce(sum(l.amount_minor), 0), 0)::bigint END AS balance_minor
FROM invoices i LEFT JOIN invoice_ledger l USING (invoice_id)
WHERE i.issued
GROUP BY i.invoice_id;

CREATE VIEW account_balances AS
SELECT account_id, sum(balance_minor)::bigint AS open_balance_minor
FROM invoice_balances WHERE closed IS NULL GROUP BY account_id;


CREATE TABLE portfolio_rules (
    rule_id           uuid PRIMARY KEY,
    collector_id      text NOT NULL,
    segment           text,
    min_balance_minor bigint,
    max_balance_minor bigint,
    rank              integer NOT NULL,
    version           integer NOT NULL DEFAULT 1,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cadence_policies (
    policy_id   uuid NOT NULL,
    version     integer NOT NULL,
    segment     text,
    name        text NOT NULL,
    steps       jsonb NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (policy_id, version)
);
CREATE UNIQUE INDEX one_policy_per_segment ON cadence_policies (segment) NULLS NOT DISTINCT
    WHERE version = 1;

CREATE TABLE tasks (
    task_id               uuid PRIMARY KEY,
    account_id            uuid NOT NULL,
    collector_id          text,
    kind                  text NOT NULL,
    business_date         date NOT NULL,
    due_on                date NOT NULL,
    status                text NOT NULL DEFAULT 'open',
    times_missed          integer NOT NULL DEFAULT 0,
    channel               text NOT NULL,
    template              text,
    escalates             boolean NOT NULL DEFAULT false,
    steps                 jsonb NOT NULL DEFAULT '[]',
    invoice_ids           uuid[] NOT NULL,
    amount_past_due_minor bigint NOT NULL,
    currency              text NOT NULL,
    days_past_due         integer NOT NULL,
    priority_score        integer NOT NULL,
    commitment_id         uuid,
    outcome               text,
    closed_by             text,
    closed_on             date,
    version               integer NOT NULL,
    UNIQUE (account_id, kind, business_date)
);
CREATE INDEX tasks_worklist ON tasks (collector_id, due_on, status);
CREATE INDEX tasks_open ON tasks (status, due_on) WHERE status = 'open';

CREATE TABLE cadence_fired (
    invoice_id  uuid NOT NULL,
    step_id     text NOT NULL,
    policy_id   uuid NOT NULL,
    account_id  uuid NOT NULL,
    task_id     uuid NOT NULL,
    fired_on    date NOT NULL,
    PRIMARY KEY (invoice_id, policy_id, step_id)
);

CREATE TABLE commitments (
    commitment_id  uuid PRIMARY KEY,
    account_id     uuid NOT NULL,
    collector_id   text NOT NULL,
    amount_minor   bigint NOT NULL,
    currency       text NOT NULL,
    promised_date  date NOT NULL,
    grace_days     integer NOT NULL,
    deadline       date NOT NULL,
    invoice_ids    uuid[] NOT NULL,
    channel        text NOT NULL,
    made_on        date NOT NULL,
    status         text NOT NULL DEFAULT 'open',
    paid_minor     bigint NOT NULL DEFAULT 0,
    judged_on      date,
    version        integer NOT NULL
);
CREATE INDEX commitments_open ON commitments (account_id) WHERE status = 'open';

CREATE TABLE contacts (
    contact_id    uuid PRIMARY KEY,
    account_id    uuid NOT NULL,
    collector_id  text NOT NULL,
    channel       text NOT NULL,
    outcome       text NOT NULL,
    task_id       uuid,
    attempted_at  timestamptz NOT NULL,
    business_date date NOT NULL,
    notes         text,
    email_to      text,
    email_message_id text,
    email_error   text
);
CREATE INDEX contacts_by_account ON contacts (account_id, attempted_at);

CREATE TABLE holds (
    hold_id      uuid PRIMARY KEY,
    account_id   uuid NOT NULL,
    invoice_ids  uuid[] NOT NULL,
    source       text NOT NULL,
    case_id      text,
    reason       text NOT NULL,
    placed_on    date NOT NULL,
    ends_on      date,
    released_on  date,
    release      text
);
CREATE INDEX holds_active ON holds (account_id) WHERE released_on IS NULL;
CREATE UNIQUE INDEX one_active_hold_per_case ON holds (case_id)
    WHERE released_on IS NULL AND case_id IS NOT NULL;

CREATE TABLE autopay_offers (
    offer_id      uuid PRIMARY KEY,
    account_id    uuid NOT NULL,
    collector_id  text NOT NULL,
    channel       text NOT NULL,
    offered_on    date NOT NULL,
    outcome       text,
    converted_on  date,
    version       integer NOT NULL
);
CREATE INDEX autopay_offers_by_account ON autopay_offers (account_id, offered_on);

CREATE TABLE account_notes (
    note_id     uuid PRIMARY KEY,
    account_id  uuid NOT NULL,
    body        text NOT NULL,
    author      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_notes_by_account ON account_notes (account_id, created_at);
"""


def upgrade() -> None:
    execute_script(SCHEMA)
