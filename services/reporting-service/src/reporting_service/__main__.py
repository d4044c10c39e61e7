"""`reporting-service` (or `python -m reporting_service`) serves; `... rebuild` rebuilds.

`rebuild [--projection billing|collections|cases]` builds a projection again
from the start of its topic into new tables while the live ones keep serving,
printing progress, then swaps them in; without `--projection` it rebuilds every
projection, one after the other. `--workers N` reads the topic in N processes
(default: one per CPU, at most one per partition). On typer, like the platform's
other command lines, so options are checked and explained the same way.
"""

from __future__ import annotations

import asyncio
import os
import sys
from enum import StrEnum
from typing import Annotated

import typer

from receivables_platform import event_loop
from receivables_platform.db.migrate import upgrade
from receivables_platform.serving import serve
from receivables_platform.settings import ServiceSettings
from reporting_service.consumers.projections import PROJECTIONS
from reporting_service.service_layer.rebuild import Progress, collect_for_rebuilding, rebuild
from reporting_service.spec import SPEC

app = typer.Typer(add_completion=False, help="Reporting service: serve, or rebuild a projection.")


class ProjectionName(StrEnum):
    """The projections by name, so `--help` lists them and a typo is refused by name."""

    billing = "billing"
    cases = "cases"
    collections = "collections"


assert set(ProjectionName) == set(PROJECTIONS), "a projection has no name on the command line"


def _print(progress: Progress) -> None:
    share = 100.0 * progress.applied / progress.total if progress.total else 100.0
    state = "swapped in" if progress.swapped else "building"
    print(
        f"{progress.projection}: {state}, {progress.applied}/{progress.total} records "
        f"({share:.1f}%), {progress.per_second:,.0f}/s",
        flush=True,
    )


async def _rebuild(settings: ServiceSettings, names: list[str], workers: int) -> None:
    assert settings.database_url is not None
    await asyncio.to_thread(upgrade, settings.database_url, SPEC.versions_dir)
    for name in names:
        projection = PROJECTIONS[name]
        subscription = next(s for s in SPEC.subscriptions if s.name == projection.subscription)
        done = await rebuild(
            settings.database_url,
            settings.kafka,
            projection,
            SPEC.group_id(subscription),
            _print,
            workers=workers,
        )
        print(f"{name}: rebuilt, {done.applied} records in {done.seconds:.1f} s", flush=True)


@app.callback(invoke_without_command=True)
def _default(context: typer.Context) -> None:
    """Without a command: migrate and serve."""
    if context.invoked_subcommand is None:
        serve(SPEC)


@app.command("serve")
def serve_command() -> None:
    """Migrate and serve (the default)."""
    serve(SPEC)


@app.command("rebuild")
def rebuild_command(
    projection: Annotated[
        ProjectionName | None, typer.Option(help="One projection; default: all of them")
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes reading the topic; default: one per CPU")
    ] = os.cpu_count() or 1,
) -> None:
    """Build a projection again from its topic into new tables, then swap them in (the
    service keeps serving meanwhile)."""
    settings = SPEC.settings()
    if not settings.database_url or not settings.kafka.bootstrap_servers:
        raise SystemExit("rebuild needs DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS")
    collect_for_rebuilding()  # a one-off bulk process
    event_loop.run(
        _rebuild(settings, [projection.value] if projection else list(PROJECTIONS), workers)
    )


def main(argv: list[str] | None = None) -> None:
    app(args=argv if argv is not None else sys.argv[1:], prog_name="reporting-service")


if __name__ == "__main__":
    main()
