"""Event contracts: every event type the platform publishes, versioned.

Importing this package registers all of them, so decoding and schema export
see the whole catalogue.
"""

from receivables_platform.contracts import billing, cases, collections  # noqa: F401
from receivables_platform.contracts.base import (
    REGISTRY,
    EventContract,
    UnknownEventType,
    contract_for,
    decode,
    upcaster,
)

__all__ = ["REGISTRY", "EventContract", "UnknownEventType", "contract_for", "decode", "upcaster"]
