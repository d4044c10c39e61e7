"""Instalments count: an invoice falls past due when its first unpaid instalment does.

Billing's `invoice.issued` (v2) carries the instalment plan; the view kept only
the last due date, so an invoice whose first instalment was months overdue
stayed "current" for the cadence until its final instalment. Money received
settles the earliest instalments first (the balance is what is left of the
latest ones, and a debit adjustment adds to the last), which is how a customer
paying on schedule reads it. `open_instalments` is that allocation; the view's
`next_due_date` is the due date of the earliest instalment still open, the date
the cadence and "past due" count from, and a cadence step fires once per invoice
and such due date. Invoices recorded before this carry no plan and read as one
instalment on their due date.
"""

from alembic import op

from receivables_platform.db.platform_schema import execute_script

revision = "collections_service_0015"
down_revision = "collections_service_0014"
branch_labels = None
depends_on = None

OPEN_INSTALMENTS = """
CREATE FUNCTION open_instalments(plan jsonb, final_due date, total bigint, balance bigint)
RETURNS TABLE (due_date date, open_minor bigint)
LANGUAGE sql IMMUTABLE AS $fn$
    WITH planned AS (
        SELECT (p.item ->> 'due_date')::date AS due_date,
               sum((p.item ->> 'amount_minor')::bigint) AS amount
        FROM jsonb_array_elements(coalesce(CASE jsonb_typeof(plan) WHEN 'array' THEN plan END,
                                           jsonb_build_array(jsonb_build_object(
                                               'due_date', final_due, 'amount_minor', total))))
             p (item)
        GROUP BY 1
    )
    SELECT p.due_date,
           greatest(least(balance - coalesce(sum(p.amount) OVER later, 0),
                          p.amount + CASE WHEN p.due_date = max(p.due_date) OVER ()
                                          THEN greatest(balance - sum(p.amount) OVER (), 0)
                                          ELSE 0 END), 0)::bigint
    FROM planned p
    WINDOW later AS (ORDER BY p.due_date DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
$fn$
"""

VIEW = """
CREATE OR REPLACE VIEW invoice_balances AS
SELECT b.*,
       coalesce((SELECT min(o.due_date) FROM open_instalments(b.instalments, b.due_date,
                                                              b.total_minor, b.balance_minor) o
                 WHERE o.open_minor > 0), b.due_date) AS next_due_date,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('due_date', o.due_date,
                                                     'open_minor', o.open_minor)
                                  ORDER BY o.due_date), '[]')
        FROM open_instalments(b.instalments, b.due_date, b.total_minor, b.balance_minor) o
        WHERE o.open_minor > 0) AS open_instalments
FROM (SELECT i.invoice_id, i.account_id, i.external_id, i.currency, i.issue_date, i.due_date,
             i.total_minor, i.closed,
             CASE WHEN i.closed = 'voided' THEN 0
                  ELSE greatest(coalesce(sum(l.amount_minor), 0), 0)::bigint END AS balance_minor,
             i.instalments
      FROM invoices i LEFT JOIN invoice_ledger l USING (invoice_id)
      WHERE i.issued
      GROUP BY i.invoice_id) b
"""


# A step fires once per invoice *and due date*: when the overdue instalment is paid and the
# next one falls due, the cadence starts again for it. Steps fired before were for the
# invoice's one due date.
FIRED_PER_DUE_DATE = """
ALTER TABLE cadence_fired ADD COLUMN due_date date;
UPDATE cadence_fired f SET due_date = i.due_date FROM invoices i
    WHERE i.invoice_id = f.invoice_id;
UPDATE cadence_fired SET due_date = fired_on WHERE due_date IS NULL;
ALTER TABLE cadence_fired ALTER COLUMN due_date SET NOT NULL,
    DROP CONSTRAINT cadence_fired_pkey,
    ADD PRIMARY KEY (invoice_id, policy_id, step_id, due_date)
"""


def upgrade() -> None:
    op.execute("ALTER TABLE invoices ADD COLUMN instalments jsonb")
    op.execute(OPEN_INSTALMENTS)
    op.execute(VIEW)
    execute_script(FIRED_PER_DUE_DATE)
