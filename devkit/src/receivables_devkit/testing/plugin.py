"""pytest fixtures for real infrastructure, registered for every package via `pytest11`.

Resolution, per docs/architecture.md#events: `DATABASE_URL` / `KAFKA_BOOTSTRAP_SERVERS`
if set; else testcontainers when a Docker engine answers; else the embedded
servers from the PyPI wheels. Each test gets its own database; Kafka topics
are shared, so tests use their own topic names or their own account ids.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
import structlog

from receivables_devkit.infra.apache_kafka import (
    ApacheKafka,
    KafkaCluster,
    broker_choice,
    configured_broker,
)
from receivables_devkit.infra.docker import docker_engine_available
from receivables_devkit.infra.embedded_kafka import EmbeddedKafka
from receivables_devkit.infra.embedded_postgres import EmbeddedPostgres, ensure_database
from receivables_devkit.testing.stripe_mock import running_stripe_mock
from receivables_devkit.testing.templates import MigratedTemplates
from receivables_platform.ids import new_id

FreshDatabase = Callable[..., Awaitable[str]]


def pytest_configure(config: pytest.Config) -> None:
    """Exceptions logged where no service configured logging print as plain tracebacks.

    structlog's default console renderer draws each traceback with rich and pygments:
    about two seconds of CPU an exception, so a test whose route fails twenty times spent
    25 s there, and every test logging a retried failure paid the same.
    """
    kept = [
        p
        for p in structlog.get_config()["processors"]
        if not isinstance(p, structlog.dev.ConsoleRenderer)
    ]
    renderer = structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    structlog.configure(processors=[*kept, renderer])


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL server URL whose role may create databases."""
    if url := os.environ.get("DATABASE_URL"):
        yield url
    elif docker_engine_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:17-alpine", driver=None) as pg:
            yield pg.get_connection_url()
    else:
        with tempfile.TemporaryDirectory(prefix="rx-pg-") as tmp:
            server = EmbeddedPostgres(Path(tmp) / "pgdata").start()
            try:
                yield server.url
            finally:
                server.stop("immediate")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield servers
    elif docker_engine_available() and broker_choice() == "tansu":
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer() as kafka:
            yield kafka.get_bootstrap_server()
    else:
        broker = configured_broker().start()
        try:
            yield broker.bootstrap_servers
        finally:
            broker.stop()


@pytest.fixture(scope="session")
def stripe_mock() -> Iterator[str]:
    """stripe-mock's base URL (`STRIPE_API_BASE`): Stripe's API without Stripe."""
    with running_stripe_mock() as url:
        yield url


@pytest.fixture
def own_broker() -> Iterator[EmbeddedKafka]:
    """A broker this test may freeze, restart or kill without touching the others:
    Tansu, or Apache Kafka under `BROKER=kafka`, where `restart()` loses its data for real."""
    broker = configured_broker().start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def apache_kafka(tmp_path: Path) -> Iterator[ApacheKafka]:
    """One Apache Kafka node whatever `BROKER` says, for what only the real broker does
    (retention, leader epochs). Tests using it are marked `apache_kafka` (`make test-kafka`)."""
    broker = ApacheKafka(log_file=tmp_path / "kafka.log").start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def kafka_cluster(tmp_path: Path) -> Iterator[KafkaCluster]:
    """Three KRaft nodes on loopback, which a test may kill, stop and freeze one at a time."""
    cluster = KafkaCluster(log_dir=tmp_path).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def own_postgres() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL server this test may stop, crash or restart without touching the
    others; gone afterwards. Its data is not under tmp_path: other pytest sessions on the
    machine prune old basetemp folders."""
    data = Path(tempfile.mkdtemp(prefix="rx-own-pg-"))
    server = EmbeddedPostgres(data / "pg").start()
    try:
        yield server
    finally:
        server.destroy()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
async def migrated_templates() -> AsyncIterator[MigratedTemplates]:
    """The session's migrated template databases, which `fresh_database` copies."""
    templates = MigratedTemplates()
    yield templates
    await templates.drop_all()


@pytest.fixture
async def fresh_database(
    postgres_server_url: str, migrated_templates: MigratedTemplates
) -> AsyncIterator[FreshDatabase]:
    """Factory: a new empty database (migrated when given a versions folder), dropped afterwards."""
    created: list[str] = []

    async def make(versions_dir: Path | None = None) -> str:
        name = f"t_{new_id().hex[:16]}"
        created.append(name)
        if versions_dir is None:
            return await ensure_database(postgres_server_url, name)
        return await migrated_templates.copy(postgres_server_url, versions_dir, name)

    yield make
    conn = await asyncpg.connect(postgres_server_url)
    try:
        for name in created:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
