"""Where collections aggregates live: one stream per task, promise, contact, offer and account.

Every stream's events are keyed by the customer account (the Kafka key and
the CloudEvents subject), so one account's story stays in order on
`collections.events.v1` whatever stream it was written to.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from collections_service.domain import account as account_domain
from collections_service.domain import autopay as autopay_domain
from collections_service.domain import commitments as commitment_domain
from collections_service.domain import contacts as contact_domain
from collections_service.domain.tasks import Task, evolve
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import TOPIC
from receivables_platform.repository import AggregateRepository
from receivables_platform.store import EventStore, PendingStream, RecordedEvent

SOURCE = "urn:receivables:collections-service"
store = EventStore(source=SOURCE, topic=TOPIC)
tasks: AggregateRepository[Task] = AggregateRepository(
    store, prefix="task", initial=Task, evolve=evolve
)
commitments: AggregateRepository[commitment_domain.Commitment] = AggregateRepository(
    store,
    prefix="commitment",
    initial=commitment_domain.Commitment,
    evolve=commitment_domain.evolve,
)
contacts: AggregateRepository[contact_domain.Contact] = AggregateRepository(
    store, prefix="contact", initial=contact_domain.Contact, evolve=contact_domain.evolve
)
offers: AggregateRepository[autopay_domain.Offer] = AggregateRepository(
    store, prefix="autopay_offer", initial=autopay_domain.Offer, evolve=autopay_domain.evolve
)
accounts: AggregateRepository[account_domain.CollectionAccount] = AggregateRepository(
    store,
    prefix="account",
    initial=account_domain.CollectionAccount,
    evolve=account_domain.evolve,
    lock_namespace="collections.account",
)
"""Its lock is the account lock every collections writer takes (`lock_account`), so a use case
that already holds it takes it again for free and none can deadlock against another."""


async def append(
    conn: asyncpg.Connection,
    stream_id: str,
    account_id: UUID,
    events: Sequence[EventContract],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> list[RecordedEvent]:
    """Append to a stream keyed by its account; `None` appends after whatever is there."""
    if not events:
        return []
    version = (
        await store.stream_version(conn, stream_id)
        if expected_version is None
        else expected_version
    )
    return await store.append(
        conn,
        [PendingStream(stream_id, version, events, str(account_id))],
        correlation_id=correlation_id,
        causation_id=causation_id,
    )


def stream(kind: str, entity_id: object) -> str:
    return f"{kind}-{entity_id}"
