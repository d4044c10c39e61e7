"""Where a database benchmark runs: `DATABASE_URL` when set, else a throwaway embedded server.

The figures of a benchmark should not depend on how its PostgreSQL was found, so
every database benchmark starts it the same way.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from receivables_devkit.infra.embedded_postgres import EmbeddedPostgres


def run_on_postgres(bench: Callable[[str], Coroutine[Any, Any, None]], *, prefix: str) -> None:
    if url := os.environ.get("DATABASE_URL"):
        asyncio.run(bench(url))
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg").start()
        try:
            asyncio.run(bench(server.url))
        finally:
            server.stop("immediate")
