"""Aging by collector reads a few rows a collector, not every due date of their book.

Aging by collector as of D summed the collector's sums over every due date
(`ar_aging_by_collector_total`, tens of thousands of rows at a million
invoices) less those dated after D: 10 ms at p95, the target. But every due
date older than D less the largest finite bucket bound lands in the last bucket,
so only the recent due dates need their own row: `ar_aging_by_collector_book`
keeps each collector's whole book per currency (every due date, every day), and
aging as of D is that book less what is dated after D, with the recent due
dates (an index range on `ar_aging_by_collector_total.due_date`) giving every
bucket but the last, which is the rest. The sums are moved by the same
re-derivation that moves the others (`sql/functions/ar_aging_restep.sql`).
"""

from alembic import op

from receivables_platform.db.platform_schema import execute_script
from receivables_platform.db.sql_files import apply_sql_files
from reporting_service.sql import COLLECTOR_BOOK, CURRENT

revision = "reporting_service_0021"
down_revision = "reporting_service_0020"
branch_labels = None
depends_on = None

# 0019 made the table for its own stepping, which summed only the invoices it stepped: the
# book is summed again from the totals per due date
FILL = """
DELETE FROM ar_aging_by_collector_book;
INSERT INTO ar_aging_by_collector_book
SELECT collector_id, currency, sum(open_minor), sum(invoices), sum(on_hold_minor),
       sum(on_hold_invoices), sum(in_dispute_minor), sum(in_dispute_invoices)
FROM ar_aging_by_collector_total GROUP BY collector_id, currency;
CREATE INDEX ar_aging_by_collector_total_due_idx ON ar_aging_by_collector_total (due_date)
"""


def upgrade() -> None:
    op.execute(COLLECTOR_BOOK)
    execute_script(FILL)
    apply_sql_files(CURRENT)
