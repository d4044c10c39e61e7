"""What case-service takes from `collections.events.v1`: each account's collector, and the
broken promises its collector is told about.

The collector is who an inbound-email case about the account goes to first
(`domain.assignment`); a broken promise is a notification to that collector.
Runs in the consumer's transaction, so a redelivered event changes nothing.
"""

from __future__ import annotations

import asyncpg

from case_service.adapters import directory
from case_service.service_layer import notifications
from receivables_platform.consumer import handles
from receivables_platform.contracts.collections import AccountAssigned, CommitmentBroken
from receivables_platform.envelope import CloudEvent


@handles(AccountAssigned, CommitmentBroken)
async def handle_collections_event(conn: asyncpg.Connection, event: CloudEvent) -> None:
    contract = event.contract
    if isinstance(contract, AccountAssigned):
        await directory.put_account_collector(conn, contract.account_id, contract.collector_id)
    elif isinstance(contract, CommitmentBroken):
        await notifications.promise_broken(conn, contract)
