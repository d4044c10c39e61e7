"""Instalments age by their own due dates.

`ar_invoices` keeps billing's instalment plan, and an invoice's aging steps are
kept per instalment due date (`ar_aging_steps` is keyed by it too), so an overdue
first instalment is past due in aging while the rest of the invoice is current
(`sql/functions/ar_open_instalments.sql`, `ar_aging_steps_of.sql`). Invoices
projected before carry no plan and age as one instalment on their due date, as
before; a replay of the billing topic fills the plans in.
"""

from alembic import op

from receivables_platform.db.sql_files import apply_sql_files
from reporting_service.sql import CURRENT

revision = "reporting_service_0020"
down_revision = "reporting_service_0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE ar_invoices ADD COLUMN instalments jsonb")
    op.execute(
        "ALTER TABLE ar_aging_steps DROP CONSTRAINT ar_aging_steps_pkey, "
        "ADD PRIMARY KEY (invoice_id, effective_date, due_date)"
    )
    apply_sql_files(CURRENT)
