"""KPIs a supervisor can trust: escalations by cause and team, satisfaction at confirmation.

`reason` is why a case was escalated (delay, documentation gap, other), what the
"reduction in escalations caused by delays or documentation gaps" KPI counts;
`team` is the internal team asked, to which an answer's timeliness is credited,
and `answered_by` the person who answered. A case keeps the satisfaction (1-5)
and comment the customer gave when confirming the outcome. `case_corrections` holds
each correction billing applied for a case, so billing accuracy can count the
invoices corrected or credited per root cause of the case.

Aging by segment read every invoice's steps joined to its account (708 ms at a
million invoices). `ar_aging_by_segment` keeps the steps summed per segment and
due date, as `ar_aging_by_due_date` does per currency, so aging by segment as of
any day reads a few thousand rows. Each step records the segment it was summed
under; when an account changes segment its invoices are re-derived at commit,
which moves their steps from the old segment to the new (the triggers and
functions doing so are in `reporting_service/sql/`).
`ar_aging_by_collector` does the same per collector (teams join it): an
assignment that changes re-derives the account's invoices. With forty
collectors those sums are tens of thousands of rows, so their totals over every
day are kept too (`ar_aging_by_collector_total`): aging as of D is the totals
less the few sums dated after D. A rebuild's new assignment table re-derives
nothing (its triggers see their own schema); after its swap every step still
summed under another collector is re-derived.

Search for a misspelt name compared the query with every name sharing a trigram
(117-256 ms p95 at 50,000 accounts). Names are made of a few hundred distinct
words: `search_words` holds each once, with a trigram index, and
`search_name_words` which account name uses it, so a query finds the words
like its own first and then the names made of them. (Contacts' names are few
per query and fast on their own trigram index; `kind` and `position` leave room
for them.)
"""

from alembic import op

from receivables_platform.db.platform_schema import execute_script

revision = "reporting_service_0018"
down_revision = "reporting_service_0017"
branch_labels = None
depends_on = None

_SCHEMA = """
ALTER TABLE escalations ADD COLUMN team text, ADD COLUMN answered_by text,
    ADD COLUMN reason text CHECK (reason IN ('delay', 'documentation_gap', 'other'));
UPDATE escalations SET team = cause WHERE origin = 'case';
ALTER TABLE cases ADD COLUMN satisfaction smallint CHECK (satisfaction BETWEEN 1 AND 5),
    ADD COLUMN satisfaction_comment text, ADD COLUMN confirmed_at timestamptz;

CREATE TABLE case_corrections (
    correction_id  uuid PRIMARY KEY,
    case_id        uuid NOT NULL,
    invoice_id     uuid NOT NULL,
    currency       text NOT NULL,
    direction      text NOT NULL,
    amount_minor   bigint NOT NULL,
    effective_date date NOT NULL
);
CREATE INDEX case_corrections_date_idx ON case_corrections (effective_date);

ALTER TABLE ar_aging_steps ADD COLUMN segment text;
UPDATE ar_aging_steps s SET segment = a.segment FROM ar_accounts a
WHERE a.account_id = s.account_id AND a.segment IS NOT NULL;
{SEGMENT_SUMS};

ALTER TABLE ar_aging_steps ADD COLUMN collector_id text;
UPDATE ar_aging_steps s SET collector_id = ca.collector_id FROM col_assignments ca
WHERE ca.account_id = s.account_id;
{COLLECTOR_SUMS};
CREATE INDEX ar_aging_by_collector_date_idx ON ar_aging_by_collector (effective_date);
{COLLECTOR_TOTALS}
"""

MEASURES = (
    "open_minor",
    "invoices",
    "on_hold_minor",
    "on_hold_invoices",
    "in_dispute_minor",
    "in_dispute_invoices",
)
COLUMNS = ", ".join(MEASURES)


def _sums_table(table: str, keys: tuple[str, ...]) -> str:
    """A table of the steps' measures summed per `keys` (the first may be NULL: none),
    filled from the steps there are."""
    first, *rest = keys
    columns = ",\n    ".join(
        [
            f"{first} text",
            *(f"{k} {'text' if k == 'currency' else 'date'} NOT NULL" for k in rest),
            *(f"{m} {'integer' if 'invoices' in m else 'bigint'} NOT NULL" for m in MEASURES),
        ]
    )
    listed = ", ".join(keys)
    sums = ", ".join(f"sum({m})" for m in MEASURES)
    return f"""CREATE TABLE {table} (
    {columns},
    UNIQUE NULLS NOT DISTINCT ({listed})
);
INSERT INTO {table} SELECT {listed}, {sums} FROM ar_aging_steps GROUP BY {listed}"""  # noqa: S608


SCHEMA = _SCHEMA.format(
    SEGMENT_SUMS=_sums_table(
        "ar_aging_by_segment", ("segment", "currency", "due_date", "effective_date")
    ),
    COLLECTOR_SUMS=_sums_table(
        "ar_aging_by_collector", ("collector_id", "currency", "due_date", "effective_date")
    ),
    COLLECTOR_TOTALS=_sums_table(
        "ar_aging_by_collector_total", ("collector_id", "currency", "due_date")
    ),
)


WORDS = r"""
CREATE TABLE search_words (word text PRIMARY KEY);
CREATE INDEX search_words_trgm_idx ON search_words USING gist (word gist_trgm_ops);
CREATE TABLE search_name_words (
    word        text    NOT NULL,
    kind        text    NOT NULL CHECK (kind IN ('account', 'contact')),
    account_id  uuid    NOT NULL,
    position    integer NOT NULL,  -- the contact's; -1 for the account's own name
    PRIMARY KEY (word, kind, account_id, position)
);
CREATE INDEX search_name_words_owner_idx ON search_name_words (account_id, kind, position);
"""

# the words a name is searched by: lower-cased runs of letters and digits with a letter in
# them (a bare number is matched exactly, by its own index, never by likeness)
WORDS_OF = r"""
CREATE FUNCTION search_words_of(name text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT DISTINCT w FROM regexp_split_to_table(lower(coalesce(name, '')), '[^[:alnum:]]+') w
    WHERE length(w) >= 2 AND w ~ '[[:alpha:]]'
$fn$
"""


def _index_names(function: str, kind: str, position: str) -> str:
    """A row trigger keeping the words of one table's names: `position` of a row (`{row}`)."""
    old, new = position.format(row="OLD"), position.format(row="NEW")
    return f"""
CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM search_name_words n WHERE n.account_id = OLD.account_id
          AND n.kind = '{kind}' AND n.position = {old};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO search_words SELECT w FROM search_words_of(NEW.name) w
        ORDER BY w ON CONFLICT DO NOTHING;
        INSERT INTO search_name_words SELECT w, '{kind}', NEW.account_id, {new}
        FROM search_words_of(NEW.name) w ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $fn$
"""  # noqa: S608 - only the fixed kinds and column names are interpolated


INDEX_ACCOUNT_NAMES = _index_names("search_index_account_names", "account", "-1")

INDEX_TRIGGERS = """
CREATE TRIGGER ar_accounts_search_words AFTER INSERT OR DELETE OR UPDATE OF name
    ON ar_accounts FOR EACH ROW EXECUTE FUNCTION search_index_account_names();
"""

INDEX_EXISTING = """
SELECT search_index_all();
"""

INDEX_ALL = """
CREATE FUNCTION search_index_all() RETURNS void LANGUAGE sql AS $fn$
    INSERT INTO search_name_words
    SELECT w, 'account', a.account_id, -1 FROM ar_accounts a, search_words_of(a.name) w
    ON CONFLICT DO NOTHING;
    INSERT INTO search_words SELECT DISTINCT word FROM search_name_words ON CONFLICT DO NOTHING;
$fn$
"""


def upgrade() -> None:
    execute_script(SCHEMA)
    execute_script(WORDS)
    op.execute(WORDS_OF)
    op.execute(INDEX_ACCOUNT_NAMES)
    op.execute(INDEX_ALL)
    execute_script(INDEX_TRIGGERS + INDEX_EXISTING)
