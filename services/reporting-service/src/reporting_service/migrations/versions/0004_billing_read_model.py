"""The rest of billing: accounts and their auto-pay history, payments, every balance change.

One event can change several invoices' balances (a reversal reopens each
invoice the payment paid), so a balance change is keyed by (event, invoice).
Every row is written by an upsert keyed by what the event names, so the
projection tolerates reordering across streams (an application before its
invoice, an invoice before its account) and replays of the same event.
Invoice flags (on hold, in dispute) are dated intervals so aging as of any
date can show them.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "reporting_service_0004"
down_revision = "reporting_service_0003"
branch_labels = None
depends_on = None

SCHEMA = """
ALTER TABLE ar_balance_changes DROP CONSTRAINT ar_balance_changes_pkey;
ALTER TABLE ar_balance_changes ADD PRIMARY KEY (event_id, invoice_id);
ALTER TABLE ar_balance_changes ADD COLUMN account_id uuid;
ALTER TABLE ar_balance_changes ADD COLUMN reference_id uuid;
ALTER TABLE ar_balance_changes ADD COLUMN reason text;
CREATE INDEX ar_balance_changes_reference_idx ON ar_balance_changes (reference_id);
CREATE INDEX ar_balance_changes_kind_date_idx ON ar_balance_changes (kind, effective_date);

ALTER TABLE ar_invoices ADD COLUMN voided_on date;
ALTER TABLE ar_invoices ADD COLUMN written_off_on date;

CREATE TABLE ar_accounts (
    account_id          uuid PRIMARY KEY,
    external_id         text,
    name                text,
    segment             text,
    currency            text,
    payment_terms_days  integer,
    registered_at       timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ar_accounts_segment_idx ON ar_accounts (segment);

CREATE TABLE ar_autopay_history (
    event_id        text PRIMARY KEY,
    account_id      uuid    NOT NULL,
    enrolled        boolean NOT NULL,
    effective_date  date    NOT NULL,
    method_type     text,
    reason          text
);
CREATE INDEX ar_autopay_history_account_idx ON ar_autopay_history (account_id, effective_date);

CREATE TABLE ar_payments (
    payment_id       uuid PRIMARY KEY,
    account_id       uuid,
    external_id      text,
    amount_minor     bigint,
    currency         text,
    method           text,
    received_on      date,
    reversed_on      date,
    reversal_reason  text,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ar_payments_account_idx ON ar_payments (account_id);
CREATE INDEX ar_payments_received_idx ON ar_payments (received_on);

CREATE TABLE ar_invoice_flags (
    flag_id       text PRIMARY KEY,
    invoice_id    uuid NOT NULL,
    account_id    uuid,
    flag          text NOT NULL CHECK (flag IN ('hold', 'dispute')),
    source        text NOT NULL,
    since_date    date,
    until_date    date
);
CREATE INDEX ar_invoice_flags_invoice_idx ON ar_invoice_flags (invoice_id);
"""


def upgrade() -> None:
    execute_script(SCHEMA)
