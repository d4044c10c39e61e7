"""The event loop every process of the platform runs on: uvloop, as uvicorn picks for the APIs.

A service's relay and consumers run inside its uvicorn process, on uvloop. Run on their
own (`python -m receivables_platform.relay`, `... .consumer`, a rebuild worker, a bulk
import), they had the standard asyncio loop, whose selector, callbacks and socket
transports are Python: under the pipeline benchmark a third of the standalone relay's CPU
and a seventh of the consumer's. uvloop comes with `uvicorn[standard]`; where it is
missing (Windows) the standard loop still works.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on uvloop when it is installed."""
    try:
        import uvloop
    except ImportError:  # e.g. Windows: uvicorn[standard] leaves uvloop out there
        return asyncio.run(main)
    return uvloop.run(main)
