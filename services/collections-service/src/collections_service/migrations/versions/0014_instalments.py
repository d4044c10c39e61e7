"""Instalments count: an invoice falls past due when its first unpaid instalment does.

Billing's `invoice.issued` (v2) carries the instalment plan; the view kept only
the last due date, so an invoice whose first instalment was months overdue
stayed "current" for the cadence until its final instalment. Money received
settles the earliest instalments first (the balance is what is left of the
latest ones, and a debit adjustment adds to the last), which is how a customer
paying on schedule reads it. `open_instalments` is that allocation; the view's
`next_due_date` is the due date of the earliest instalment still open, the date
the cadence and "past due" count from. Invoices recorded before this carry no
plan and read as one instalment on their due date.
"""

from alembic import op

revision = "collections_service_0014"
down_revision = "collections_service_0013"
branch_labels = None
depends_on = None

OPEN_INSTALMENTS = """
CREATE FUNCTION open_instalments(plan jsonb, final_due date, total bigint, balance bigint)
RETURNS TABLE (due_date date, open_minor bigint)
LANGUAGE sql IMMUTABLE AS $fn$
    WITH planned AS (
        SELECT (p.item ->> 'due_date')::date AS due_date,
               (p.item ->> 'amount_minor')::bigint AS amount, p.n
        FROM jsonb_array_elements(coalesce(plan, jsonb_build_array(
                 jsonb_build_object('due_date', final_due, 'amount_minor', total))))
             WITH ORDINALITY p (item, n)
    ), placed AS (
        SELECT p.due_date, p.amount, p.n = max(p.n) OVER () AS last,
               coalesce(sum(p.amount) OVER (ORDER BY p.n DESC ROWS BETWEEN UNBOUNDED PRECEDING
                                            AND 1 PRECEDING), 0) AS later
        FROM planned p
    )
    SELECT p.due_date,
           greatest(least(balance - p.later,
                          p.amount + CASE WHEN p.last THEN greatest(balance - total, 0)
                                          ELSE 0 END), 0)::bigint
    FROM placed p
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


def upgrade() -> None:
    op.execute("ALTER TABLE invoices ADD COLUMN instalments jsonb")
    op.execute(OPEN_INSTALMENTS)
    op.execute(VIEW)
