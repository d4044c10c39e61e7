"""`python -m receivables_platform.relay`: one service's relay as its own process.

A platform team can run the relay apart from the API (and fault tests kill it
with SIGKILL); SIGTERM stops it cleanly, releasing the leader lock at once.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from functools import partial

import asyncpg
import structlog
import typer

from receivables_platform import event_loop
from receivables_platform.db.pool import create_pool
from receivables_platform.heap import collect_for_bulk_work
from receivables_platform.observability.logging import configure_logging
from receivables_platform.observability.tracing import configure_tracing
from receivables_platform.relay.relay import DEFAULT_BATCH_SIZE, OutboxRelay
from receivables_platform.settings import DEFAULT_RELAY_PASS_INTERVAL, KafkaSettings

app = typer.Typer(add_completion=False, help=__doc__)


@app.command()
def main(
    database_url: str = typer.Option(..., envvar="DATABASE_URL", help="The service's database"),
    bootstrap_servers: str = typer.Option(..., envvar="KAFKA_BOOTSTRAP_SERVERS"),
    service: str = typer.Option(..., help="Service name: one active relay per name"),
    topic: list[str] = typer.Option([], help="Topics to create at start (repeatable)"),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, min=1),
    poll_interval: float = typer.Option(1.0, min=0.01, help="Seconds between polls"),
    pass_interval: float = typer.Option(
        DEFAULT_RELAY_PASS_INTERVAL,
        min=0.0,
        max=1.0,
        envvar="RELAY_PASS_INTERVAL",
        help="Seconds at least between passes while commits keep coming (batches them)",
    ),
    request_timeout: float = typer.Option(30.0, min=0.1, help="Seconds per broker request"),
    loss_check_interval: float = typer.Option(
        5.0, min=0.1, help="Seconds between broker data-loss checks"
    ),
    log_level: str = typer.Option("INFO", envvar="LOG_LEVEL"),
) -> None:
    configure_logging(f"{service}-relay", log_level)
    configure_tracing(f"{service}-relay")
    relay = partial(
        OutboxRelay,
        kafka=KafkaSettings(bootstrap_servers=bootstrap_servers),
        service_name=service,
        batch_size=batch_size,
        topics=topic,
        poll_interval=poll_interval,
        pass_interval=pass_interval,
        request_timeout=request_timeout,
        loss_check_interval=loss_check_interval,
    )
    collect_for_bulk_work()
    event_loop.run(_serve(database_url, relay))


async def _serve(database_url: str, make_relay: Callable[[asyncpg.Pool], OutboxRelay]) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=4)
    try:
        relay = make_relay(pool)
        task = asyncio.create_task(relay.run(), name="outbox-relay")
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            structlog.get_logger("receivables_platform.relay").info("relay.stopped")
    finally:
        await pool.close()


if __name__ == "__main__":
    app()
