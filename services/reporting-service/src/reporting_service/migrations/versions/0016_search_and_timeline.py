"""Search and the account timeline: what a representative needs while the customer waits.

Search matches account names with typos, so it needs trigrams (`pg_trgm`, a
trusted extension: the database owner may create it). Invoice numbers, external
ids and case numbers are matched exactly or by prefix on their lower-cased text
(B-tree, in byte order so a prefix is a range), which a million invoices answer in a millisecond where trigrams on
look-alike numbers would read most of the index. Contacts come from billing's
account events, which reporting did not keep before; a rebuild of the billing
projection fills them.

The timeline has one row per thing that happened to an account, written by the
projection that read it (`source`) in the same transaction as its position, so a
rebuild of one projection empties and refills exactly its rows. A case opened
from an unknown sender has no account yet: its rows carry `case_id` and get the
account when the case is linked.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "reporting_service_0016_search"
down_revision = "reporting_service_0015"
branch_labels = None
depends_on = None

SCHEMA = r"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE ar_account_contacts (
    account_id  uuid    NOT NULL,
    position    integer NOT NULL,
    name        text,
    email       text,
    phone       text,
    phone_digits text,
    PRIMARY KEY (account_id, position)
);
CREATE INDEX ar_account_contacts_email_idx ON ar_account_contacts ((lower(email) COLLATE "C"));
CREATE INDEX ar_account_contacts_email_trgm_idx ON ar_account_contacts
    USING gin (email gin_trgm_ops);
CREATE INDEX ar_account_contacts_phone_trgm_idx ON ar_account_contacts
    USING gin (phone_digits gin_trgm_ops);
CREATE INDEX ar_account_contacts_name_trgm_idx ON ar_account_contacts
    USING gin (name gin_trgm_ops);

CREATE INDEX ar_accounts_name_trgm_idx ON ar_accounts USING gin (name gin_trgm_ops);
CREATE INDEX ar_accounts_external_id_idx ON ar_accounts ((lower(external_id) COLLATE "C"));
CREATE INDEX ar_invoices_external_id_idx ON ar_invoices ((lower(external_id) COLLATE "C"));
CREATE INDEX cases_case_number_idx ON cases ((lower(case_number) COLLATE "C"));

CREATE TABLE account_timeline (
    entry_id    text        PRIMARY KEY,
    source      text        NOT NULL,
    account_id  uuid,
    case_id     uuid,
    at          timestamptz NOT NULL,
    kind        text        NOT NULL,
    title       text        NOT NULL,
    detail      jsonb       NOT NULL DEFAULT '{}',
    event_id    text        NOT NULL
);
CREATE INDEX account_timeline_page_idx ON account_timeline (account_id, at DESC, entry_id DESC);
CREATE INDEX account_timeline_kind_idx
    ON account_timeline (account_id, kind, at DESC, entry_id DESC);
CREATE INDEX account_timeline_case_idx ON account_timeline (case_id) WHERE case_id IS NOT NULL;
"""


def upgrade() -> None:
    execute_script(SCHEMA)
