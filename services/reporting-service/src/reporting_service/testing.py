"""Helpers for this service's tests: contracts wrapped as the CloudEvents a topic carries.

In the package (not under tests/) so the integration tests and the benchmark
build events the same way.
"""

from __future__ import annotations

from receivables_platform.contracts.base import EventContract
from receivables_platform.envelope import CloudEvent


def cloud(contract: EventContract, *, source: str = "urn:test:billing-adapter") -> CloudEvent:
    """The envelope a producer would give the contract: keyed and subjected by its account."""
    account = str(getattr(contract, "account_id"))  # noqa: B009 - every contract names one
    return CloudEvent(source=source, type=contract.event_type,
                      schemaversion=contract.version, subject=account, partitionkey=account,
                      data=contract.payload())
