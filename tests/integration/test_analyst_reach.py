"""The analysts' login reaches the reporting database and no service's own.

PostgreSQL lets every role connect to every database unless CONNECT is revoked
from PUBLIC, so each service's migrations revoke it on its database; this logs in
as an analyst, as docs/analysts.md has platform teams create one, against all four
migrated on one server, as the dev stack and a shared production server have them.
"""

import asyncpg
import pytest

from billing_adapter.spec import SPEC as BILLING
from case_service.spec import SPEC as CASES
from collections_service.spec import SPEC as COLLECTIONS
from receivables_platform.service import ServiceSpec
from reporting_service.spec import SPEC as REPORTING
from reporting_service.testing import analyst_login, connect_as


@pytest.mark.parametrize("spec", [BILLING, COLLECTIONS, CASES], ids=lambda s: s.database)
async def test_the_analyst_cannot_connect_to_a_services_own_database(
    fresh_database, spec: ServiceSpec
) -> None:
    reporting = await fresh_database(REPORTING.versions_dir)
    service_db = await fresh_database(spec.versions_dir)
    async with analyst_login(reporting) as login:
        conn = await connect_as(login, reporting)
        assert await conn.fetchval("SELECT count(*) FROM reporting.invoices") == 0
        await conn.close()
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="CONNECT"):
            await connect_as(login, service_db)
    service = await asyncpg.connect(service_db)  # the service's own role still connects
    await service.close()
