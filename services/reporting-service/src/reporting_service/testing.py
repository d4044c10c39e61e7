"""Helpers for this service's tests: contracts wrapped as the CloudEvents a topic carries.

In the package (not under tests/) so the integration tests and the benchmark
build events the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit
from uuid import uuid4

import asyncpg

from receivables_platform.contracts.base import EventContract
from receivables_platform.envelope import CloudEvent


def cloud(contract: EventContract, *, source: str = "urn:test:billing-adapter") -> CloudEvent:
    """The envelope a producer would give the contract: keyed and subjected by its account."""
    account = str(getattr(contract, "account_id"))  # noqa: B009 - every contract names one
    return CloudEvent(
        source=source,
        type=contract.event_type,
        schemaversion=contract.version,
        subject=account,
        partitionkey=account,
        data=contract.payload(),
    )


@asynccontextmanager
async def analyst_login(server_url: str) -> AsyncIterator[str]:
    """A login role of the `analyst` group, as docs/analysts.md has platform teams create
    one (the reporting migrations must have created the group on this server); dropped
    afterwards. Yields its name."""
    login = f"analyst_{uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE ROLE "{login}" LOGIN IN ROLE analyst')
        yield login
    finally:
        await admin.execute(f'DROP OWNED BY "{login}"')
        await admin.execute(f'DROP ROLE "{login}"')
        await admin.close()


async def connect_as(login: str, database_url: str) -> asyncpg.Connection:
    """`login` connected to the database of `database_url` (same server, no password)."""
    parts = urlsplit(database_url)
    return await asyncpg.connect(
        host=parts.hostname, port=parts.port, user=login, database=parts.path.lstrip("/")
    )
