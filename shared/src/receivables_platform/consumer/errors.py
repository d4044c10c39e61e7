"""Which failures a retry can fix, and which only a dead-letter topic can hold.

Permanent failures are properties of the record itself: retrying them would
block the partition forever, so they are dead-lettered and the partition moves
on. Transient ones are properties of the moment (a dropped connection, a
deadlock, a broker leader move) and are retried with backoff. Anything else is
a bug in a handler; it is retried too, loudly, because dead-lettering every
event during a bad deploy would silently hollow out the read model, while a
stalled partition shows up on the lag gauge and heals with the fix.
"""

from __future__ import annotations

import asyncpg
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from receivables_platform.contracts.base import UnknownEventType
from receivables_platform.envelope import InvalidEnvelope
from receivables_platform.store import EventTooLarge


class PermanentError(Exception):
    """Raised by a handler for an event that can never be applied, however often it is retried."""


PERMANENT: tuple[type[BaseException], ...] = (
    PermanentError,
    InvalidEnvelope,
    UnknownEventType,
    ValidationError,
    EventTooLarge,  # what the handler decided to record from this event never fits the broker
)

TRANSIENT: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.TransactionRollbackError,  # serialization failure, deadlock
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # statement timeout, admin shutdown
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections
    asyncpg.exceptions.LockNotAvailableError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    KafkaError,
    ConnectionError,
    TimeoutError,
    OSError,
)


def is_permanent(exc: BaseException) -> bool:
    return isinstance(exc, PERMANENT)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT)


def describe(exc: BaseException) -> str:
    """The error class a dead letter or a log line names: qualified, so it can be looked up."""
    cls = type(exc)
    return f"{cls.__module__}.{cls.__qualname__}"
