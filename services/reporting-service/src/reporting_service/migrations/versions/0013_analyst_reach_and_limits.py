"""What an analyst may reach: this database only, no advisory locks, statements bounded.

Analysts log in with their own roles that are members of `analyst` (NOLOGIN), so
nothing set on `analyst` itself reaches their sessions except privileges:

- CONNECT: revoked from PUBLIC and granted to `analyst` (the other services'
  databases revoke it from PUBLIC in their own migrations, so an analyst reaches
  none of them).
- Advisory locks: the relay, the consumers, the rebuild swap and the migrations
  take them in this database, and a reader holding one would stall the service.
  EXECUTE on the functions goes from PUBLIC to the service's own roles.
- statement_timeout: the database's default, `ANALYST_STATEMENT_TIMEOUT` when
  this migration runs (default 2min), for every role but the service's own. Change
  it later with `ALTER DATABASE reporting SET statement_timeout = '...'`.
"""

import os

from receivables_platform.db.access import (
    advisory_locks_only_for_the_service,
    connect_only_by_grant,
    statement_timeout_for_others,
)

revision = "reporting_service_0013_analyst"
down_revision = "reporting_service_0012"
branch_labels = None
depends_on = None

ANALYST_STATEMENT_TIMEOUT = "2min"
ANALYST_ENVIRONMENT = {
    "ANALYST_STATEMENT_TIMEOUT": "How long one query of the `analyst` role (and any other role "
    "but the service's) may run, a PostgreSQL interval such as "
    "`2min` (the default); set when the migration runs.",
}


def upgrade() -> None:
    connect_only_by_grant("analyst")
    advisory_locks_only_for_the_service()
    try:
        statement_timeout_for_others(
            os.environ.get("ANALYST_STATEMENT_TIMEOUT") or ANALYST_STATEMENT_TIMEOUT
        )
    except ValueError as exc:
        raise ValueError(f"ANALYST_STATEMENT_TIMEOUT: {exc}") from None
