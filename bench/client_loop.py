"""Run a benchmark's client on uvloop, the event loop the services' uvicorn runs on.

The client shares the machine with the system it measures: on the standard
asyncio loop the load client spent CPU the services then lacked. uvloop comes
with `uvicorn[standard]`; where it is missing the standard loop still works.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_client(main: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:  # e.g. Windows: uvicorn[standard] leaves uvloop out there
        return asyncio.run(main)
    return uvloop.run(main)
