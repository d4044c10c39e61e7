"""`atomic(conn)`: the caller's transaction when one is open, else a new one.

asyncpg's `conn.transaction()` inside an open transaction is a savepoint: two
more round trips (SAVEPOINT, RELEASE) for every use case a request runs. A use
case called inside the caller's transaction (an Idempotency-Key's, a consumer
batch's) does not need one: an error it raises goes up through the caller's
transaction, which rolls back whole. A caller that catches an error from such a
block and carries on in the same transaction opens its own savepoint around the
call, as the Stripe connector and the consumer runner do, unless the error
comes before the block wrote anything (a refused decision).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

import asyncpg


def atomic(conn: asyncpg.Connection) -> AbstractAsyncContextManager[Any]:
    """What the block writes commits together: in the caller's transaction or a new one."""
    if conn.is_in_transaction():
        return nullcontext()
    transaction: AbstractAsyncContextManager[Any] = conn.transaction()
    return transaction
