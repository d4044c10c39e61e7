"""PostgreSQL and a Kafka-protocol broker for a run: those the environment names, else embedded.

Benchmarks and one-off tools need both servers the way `make run` does:
`DATABASE_URL` / `KAFKA_BOOTSTRAP_SERVERS` when set (a real cluster), else the
embedded PostgreSQL and the broker `BROKER` names (Tansu by default) on free loopback
ports with their data under a folder the caller owns, stopped when the run ends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from receivables_devkit.infra.apache_kafka import configured_broker
from receivables_devkit.infra.embedded_postgres import EmbeddedPostgres

T = TypeVar("T")


@contextmanager
def servers(data: Path) -> Iterator[tuple[str, str]]:
    """(PostgreSQL server URL, Kafka bootstrap servers) until the block ends."""
    database, bootstrap = os.environ.get("DATABASE_URL"), os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    pg = None if database else EmbeddedPostgres(data / "pg").start()
    kafka = None if bootstrap else configured_broker().start()
    try:
        yield (database or _started(pg).url, bootstrap or _started(kafka).bootstrap_servers)
    finally:
        if kafka:
            kafka.stop()
        if pg:
            pg.stop("immediate")


def _started(server: T | None) -> T:
    assert server is not None
    return server
