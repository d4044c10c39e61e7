"""Relay and consumer together, as processes, through faults: the read model ends exact.

Each scenario appends invoices with known totals, injects a fault while the
pipeline is moving, and then requires the consumer's totals per account to
equal what was appended: nothing lost, nothing counted twice.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest

from receivables_devkit.infra.embedded_kafka import EmbeddedKafka
from receivables_devkit.testing.processes import consumer_process, relay_process
from receivables_devkit.testing.totals import read_totals
from receivables_platform.contracts.billing import InvoiceIssued
from receivables_platform.store import EventStore, PendingStream

# A minute of relay and consumer processes through three faults: with the long fault
# runs in `make test-faults` (and `make test-kafka`), not in the five-minute `make test`.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


class Ledger:
    """What was appended, per account: the totals the read model must end with."""

    def __init__(self, pool: asyncpg.Pool, accounts: int = 20) -> None:
        self.pool = pool
        self.store = EventStore(source="urn:pipeline-test", topic=f"p{uuid4().hex[:10]}.v1")
        self.accounts = [str(uuid4()) for _ in range(accounts)]
        self.expected: dict[str, tuple[int, int]] = {}
        self.rng = random.Random(7)

    async def append(self, transactions: int, per_transaction: int = 5) -> None:
        for _ in range(transactions):
            streams, batch = [], []
            for _ in range(per_transaction):
                account = self.rng.choice(self.accounts)
                amount = self.rng.randint(1, 100_000)
                event = InvoiceIssued(
                    invoice_id=uuid4(),
                    account_id=account,
                    external_id="P",
                    currency="USD",
                    total_minor=amount,
                    issue_date=date(2026, 1, 1),
                    due_date=date(2026, 2, 1),
                )
                streams.append(PendingStream(f"invoice-{event.invoice_id}", 0, [event], account))
                batch.append((account, amount))
            async with self.pool.acquire() as conn:
                await self.store.append(conn, streams)
            for account, amount in batch:
                total, count = self.expected.get(account, (0, 0))
                self.expected[account] = (total + amount, count + 1)

    @property
    def events(self) -> int:
        return sum(count for _, count in self.expected.values())

    async def read_model_matches(self, timeout: float) -> None:
        totals: dict[str, tuple[int, int]] = {}
        try:
            await self._converge(timeout, totals)
        except TimeoutError:
            seen = sum(n for _, n in totals.values())
            raise AssertionError(
                f"read model has {seen} of {self.events} events after {timeout}s"
            ) from None

    async def _converge(self, timeout: float, totals: dict[str, tuple[int, int]]) -> None:
        async with asyncio.timeout(timeout):
            while True:
                async with self.pool.acquire() as conn:
                    totals.clear()
                    totals.update(await read_totals(conn))
                if totals == self.expected:
                    return
                assert all(totals.get(a, (0, 0))[1] <= n for a, (_, n) in self.expected.items()), (
                    "an account has counted more events than were appended"
                )
                await asyncio.sleep(0.2)


@pytest.fixture
async def ledger(pool: asyncpg.Pool) -> Ledger:
    return Ledger(pool)


class Pipeline:
    def __init__(
        self, db: str, bootstrap: str, topic: str, logs: Path, env: dict[str, str] | None
    ) -> None:
        self.relay = relay_process(
            db,
            bootstrap,
            f"svc-{topic}",
            logs / "relay.log",
            "--topic",
            topic,
            "--batch-size",
            "50",
            "--poll-interval",
            "0.1",
            "--request-timeout",
            "5",
            "--loss-check-interval",
            "1",
            env=env,
        )
        self.consumer = consumer_process(
            db,
            bootstrap,
            f"g-{topic}",
            topic,
            logs / "consumer.log",
            "--loss-check-interval",
            "1",
            "--max-batch",
            "20",
            env=env,
        )


@pytest.fixture
async def pipeline_for(platform_db: str, tmp_path: Path) -> AsyncIterator:
    started: list[Pipeline] = []

    def make(bootstrap: str, topic: str, env: dict[str, str] | None = None) -> Pipeline:
        pipe = Pipeline(platform_db, bootstrap, topic, tmp_path, env)
        pipe.relay.start()
        pipe.consumer.start()
        started.append(pipe)
        return pipe

    yield make
    for pipe in started:
        pipe.relay.stop()
        pipe.consumer.stop()


async def test_relay_and_consumer_killed_mid_stream_leave_exact_totals(
    ledger: Ledger, pipeline_for, kafka_bootstrap: str
):
    pipe = pipeline_for(kafka_bootstrap, ledger.store.topic)
    for round_ in range(3):
        await ledger.append(transactions=60)
        await asyncio.sleep(0.3)  # let the relay and consumer get into the middle of it
        pipe.relay.kill()
        if round_ == 1:
            pipe.consumer.kill()
            pipe.consumer.start()
        await ledger.append(transactions=20)  # written while the relay is down
        pipe.relay.start()
    await ledger.read_model_matches(timeout=90)
    assert ledger.events == 3 * 80 * 5


async def test_a_broker_that_lost_everything_heals_into_an_exact_read_model(
    ledger: Ledger, pipeline_for, own_broker: EmbeddedKafka
):
    # The topic comes back with the broker's own partition count (see EmbeddedKafka);
    # with another count keys would move partitions, which is a re-partitioning, not a loss.
    same_layout = {"KAFKA_TOPIC_PARTITIONS": str(EmbeddedKafka.AUTO_CREATED_PARTITIONS)}
    pipeline_for(own_broker.bootstrap_servers, ledger.store.topic, same_layout)
    await ledger.append(transactions=40)
    await ledger.read_model_matches(timeout=60)
    own_broker.restart()
    await ledger.append(transactions=40)
    await ledger.read_model_matches(timeout=90)


async def test_a_frozen_broker_then_thawed_loses_nothing(
    ledger: Ledger, pipeline_for, own_broker: EmbeddedKafka
):
    pipeline_for(own_broker.bootstrap_servers, ledger.store.topic)
    await ledger.append(transactions=20)
    await ledger.read_model_matches(timeout=60)
    own_broker.freeze()
    try:
        await ledger.append(transactions=40)  # the outbox takes writes while Kafka is away
        await asyncio.sleep(8)  # longer than the relay's 5 s request timeout
    finally:
        own_broker.thaw()
    await ledger.read_model_matches(timeout=90)
