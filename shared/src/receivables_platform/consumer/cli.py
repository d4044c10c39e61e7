"""Run one consumer runner standalone: a read model fed by its own process.

Services normally run their consumers beside the API in one process; this
entry point is for running a projection on its own (a rebuild, a fault test)
with nothing else in the process.
"""

from __future__ import annotations

import asyncio
import importlib
import signal
from typing import Annotated, cast

import structlog
import typer

from receivables_platform import event_loop
from receivables_platform.consumer.runner import ConsumerRunner, Handler, handled_types
from receivables_platform.db.pool import create_pool
from receivables_platform.heap import freeze_start_up
from receivables_platform.observability.logging import configure_logging
from receivables_platform.observability.tracing import configure_tracing
from receivables_platform.settings import KafkaSettings

app = typer.Typer(add_completion=False, help=__doc__)
log = structlog.get_logger("receivables_platform.consumer")


def load_handler(spec: str) -> Handler:
    """`package.module:function`, the way uvicorn names an app."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise typer.BadParameter(f"expected module:function, got {spec!r}")
    handler = getattr(importlib.import_module(module_name), attribute, None)
    if not callable(handler):
        raise typer.BadParameter(f"{spec} is not a callable")
    return cast(Handler, handler)


@app.command()
def main(
    database_url: Annotated[str, typer.Option(envvar="DATABASE_URL")],
    bootstrap_servers: Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP_SERVERS")],
    group: Annotated[str, typer.Option(help="Consumer group; also the key of its stored state")],
    topic: Annotated[list[str], typer.Option(help="Topic to consume; repeat for several")],
    handler: Annotated[str, typer.Option(help="module:function applying one event")],
    max_batch: int = 500,
    loss_check_interval: float = 5.0,
    session_timeout_ms: int = 10_000,
    heartbeat_interval_ms: int = 3_000,
    metrics_port: Annotated[int | None, typer.Option(help="Serve /metrics on this port")] = None,
    service_name: Annotated[str, typer.Option(envvar="SERVICE_NAME")] = "receivables-consumer",
    log_level: Annotated[str, typer.Option(envvar="LOG_LEVEL")] = "INFO",
) -> None:
    """Feed one read model from Kafka until SIGTERM; positions live in the read model's database.

    Fault tests only: RX_FAULT_EXIT_AFTER_DB_COMMIT=N exits right after the
    N-th database commit, before Kafka hears of it.
    """
    configure_logging(service_name, log_level)
    configure_tracing(service_name)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port)
    kafka = KafkaSettings(bootstrap_servers=bootstrap_servers)
    applies = load_handler(handler)
    runner_options = dict(
        group_id=group,
        topics=topic,
        handler=applies,
        event_types=handled_types(applies),
        max_batch=max_batch,
        loss_check_interval=loss_check_interval,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=heartbeat_interval_ms,
    )
    freeze_start_up()
    event_loop.run(_serve(database_url, kafka, runner_options))


async def _serve(database_url: str, kafka: KafkaSettings, options: dict[str, object]) -> None:
    """Runs until SIGTERM or SIGINT, then leaves the group cleanly."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    pool = await create_pool(database_url, min_size=1, max_size=4)
    try:
        await ConsumerRunner(pool, kafka, **options).run()  # type: ignore[arg-type]
    except asyncio.CancelledError:
        log.info("consumer.stopped", group=options["group_id"])
    finally:
        await pool.close()
