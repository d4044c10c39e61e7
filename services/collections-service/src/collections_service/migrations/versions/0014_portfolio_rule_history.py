"""Portfolio rules keep their history: who added, changed or retired a rule, and what it was.

A rule decides which collector works which accounts, so a supervisor asking "why
did this account move" needs the rule as it was, also after it was retired (the
row in `portfolio_rules` is deleted then, its history is not). Rules that exist
already start their history with a `recorded` entry: the rule as it stood when
history began, by whoever created it; edits before then were not kept.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "collections_service_0014"
down_revision = "collections_service_0013"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE portfolio_rule_history (
    entry_id    bigserial PRIMARY KEY,
    rule_id     uuid NOT NULL,
    version     integer NOT NULL,
    change      text NOT NULL CHECK (change IN ('recorded', 'added', 'changed', 'retired')),
    changed_by  text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    rule        jsonb NOT NULL,
    before      jsonb
);
CREATE INDEX portfolio_rule_history_by_rule ON portfolio_rule_history (rule_id, entry_id);

INSERT INTO portfolio_rule_history (rule_id, version, change, changed_by, changed_at, rule)
SELECT rule_id, version, 'recorded', created_by, created_at,
       jsonb_build_object('collector_id', collector_id, 'rank', rank, 'segment', segment,
                          'min_balance_minor', min_balance_minor,
                          'max_balance_minor', max_balance_minor)
FROM portfolio_rules;
"""


def upgrade() -> None:
    execute_script(SCHEMA)
