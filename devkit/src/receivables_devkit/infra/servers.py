"""PostgreSQL and a Kafka-protocol broker for a run: those the environment names, else embedded.

Benchmarks and one-off tools need both servers the way `make run` does:
`DATABASE_URL` / `KAFKA_BOOTSTRAP_SERVERS` when set (a real cluster), else the
embedded PostgreSQL and the broker `BROKER` names (Tansu by default) on free loopback
ports with their data under a folder the caller owns, stopped when the run ends.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from receivables_devkit.infra.apache_kafka import configured_broker
from receivables_devkit.infra.embedded_postgres import EmbeddedPostgres

T = TypeVar("T")


def add_database_transport(parser: argparse.ArgumentParser) -> None:
    """A benchmark's `--over`: how the services reach an embedded PostgreSQL (`over_socket`)."""
    parser.add_argument(
        "--over",
        choices=("socket", "tcp"),
        default="socket",
        help="reach the embedded PostgreSQL over its unix socket (as a deployment beside its "
        "database does) or loopback TCP (as one across a network, less the network)",
    )


@contextmanager
def servers(
    data: Path, *, over_socket: bool = False, postgres_settings: str = ""
) -> Iterator[tuple[str, str]]:
    """(PostgreSQL server URL, Kafka bootstrap servers) until the block ends; `over_socket`:
    an embedded PostgreSQL is reached over its unix socket, as a deployment beside its
    database would reach it, instead of loopback TCP; `postgres_settings`: its extra
    `-c` options."""
    database, bootstrap = os.environ.get("DATABASE_URL"), os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    pg = None if database else EmbeddedPostgres(data / "pg", settings=postgres_settings).start()
    kafka = None if bootstrap else configured_broker().start()
    try:
        if database is None:
            database = _started(pg).socket_url if over_socket else _started(pg).url
        yield (database, bootstrap or _started(kafka).bootstrap_servers)
    finally:
        if kafka:
            kafka.stop()
        if pg:
            pg.stop("immediate")


def _started(server: T | None) -> T:
    assert server is not None
    return server
