"""Only roles granted CONNECT reach this database: PostgreSQL lets every role connect
to every database, so the analysts' login, meant for the reporting views, could open
this one. The service's own role owns it (or is superuser) and needs no grant."""

from receivables_platform.db.access import connect_only_by_grant

revision = "case_service_0005"
down_revision = "case_service_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connect_only_by_grant()
