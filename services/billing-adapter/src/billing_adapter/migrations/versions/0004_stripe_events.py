"""Stripe events received: what makes a webhook redelivery change nothing, and where parked ones wait.

One row per Stripe event id, written in the transaction that applies the
event, so a redelivery finds it and changes nothing. `outcome` says what came
of it. A parked event (it needs an account, invoice or payment we do not have
yet) keeps its payload and what it waits for, and is replayed as soon as that
external id exists; applied and ignored rows keep no payload.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "billing_adapter_0004"
down_revision = "billing_adapter_0003"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE stripe_events (
    event_id              text PRIMARY KEY,
    type                  text NOT NULL,
    object_id             text,
    created_at            timestamptz NOT NULL,
    received_at           timestamptz NOT NULL DEFAULT now(),
    settled_at            timestamptz NOT NULL DEFAULT now(),
    outcome               text NOT NULL
        CHECK (outcome IN ('applied', 'ignored', 'parked', 'rejected')),
    detail                text,
    waiting_kind          text,
    waiting_external_id   text,
    payload               jsonb,
    CHECK ((outcome = 'parked') = (payload IS NOT NULL AND waiting_kind IS NOT NULL))
);
CREATE INDEX stripe_events_parked ON stripe_events (waiting_kind, waiting_external_id)
    WHERE outcome = 'parked';
CREATE INDEX stripe_events_by_object ON stripe_events (object_id, created_at);
"""


def upgrade() -> None:
    execute_script(SCHEMA)
