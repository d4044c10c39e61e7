"""Functions, triggers and analyst views as their files in `reporting_service/sql/` define them.

Earlier migrations redefined the aging functions and the analyst views several times;
they now create only tables, and this one applies the current definition of every
object, over whatever an upgraded database had. Invoices written before aging was
kept as steps get their steps here; those that have steps keep them.
"""

from alembic import op

from receivables_platform.db.sql_files import apply_sql_files
from reporting_service.sql import COLLECTOR_BOOK, CURRENT

revision = "reporting_service_0019"
down_revision = "reporting_service_0018"
branch_labels = None
depends_on = None

STEP_THE_UNSTEPPED = """
SELECT ar_aging_restep(ARRAY(SELECT i.invoice_id FROM ar_invoices i
                             WHERE NOT EXISTS (SELECT FROM ar_aging_steps s
                                               WHERE s.invoice_id = i.invoice_id)))
"""


def upgrade() -> None:
    op.execute(COLLECTOR_BOOK)  # written by the current ar_aging_restep (see 0021)
    apply_sql_files(CURRENT)
    # default privileges (0006) grant a new view; one made before them needs the grant
    op.execute("GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO analyst")
    op.execute(STEP_THE_UNSTEPPED)
