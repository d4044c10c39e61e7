"""`python -m reporting_service` serves; `python -m reporting_service rebuild` rebuilds.

`rebuild [--projection billing|collections|cases]` builds a projection again
from the start of its topic into new tables while the live ones keep serving,
printing progress, then swaps them in; without `--projection` it rebuilds every
projection, one after the other. `--workers N` reads the topic in N processes
(default: one per CPU, at most one per partition).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from receivables_platform.db.migrate import upgrade
from receivables_platform.serving import serve
from reporting_service.consumers.projections import PROJECTIONS
from reporting_service.service_layer.rebuild import Progress, collect_for_rebuilding, rebuild
from reporting_service.spec import SPEC


def _print(progress: Progress) -> None:
    share = 100.0 * progress.applied / progress.total if progress.total else 100.0
    state = "swapped in" if progress.swapped else "building"
    print(f"{progress.projection}: {state}, {progress.applied}/{progress.total} records "
          f"({share:.1f}%), {progress.per_second:,.0f}/s", flush=True)


async def _rebuild(names: list[str], workers: int) -> None:
    settings = SPEC.settings()
    if not settings.database_url or not settings.kafka.bootstrap_servers:
        raise SystemExit("rebuild needs DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS")
    await asyncio.to_thread(upgrade, settings.database_url, SPEC.versions_dir)
    for name in names:
        projection = PROJECTIONS[name]
        subscription = next(s for s in SPEC.subscriptions if s.name == projection.subscription)
        done = await rebuild(settings.database_url, settings.kafka, projection,
                             SPEC.group_id(subscription), _print, workers=workers)
        print(f"{name}: rebuilt, {done.applied} records in {done.seconds:.1f} s", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="reporting-service")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="migrate and serve (the default)")
    rebuild_cmd = commands.add_parser(
        "rebuild", help="build a projection again from its topic into new tables, then swap "
                        "them in (the service keeps serving meanwhile)")
    rebuild_cmd.add_argument("--projection", choices=sorted(PROJECTIONS),
                             help="one projection; default: all of them")
    rebuild_cmd.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                             help="processes reading the topic; default: one per CPU")
    args = parser.parse_args(argv)
    if args.command == "rebuild":
        collect_for_rebuilding()  # a one-off bulk process
        asyncio.run(_rebuild([args.projection] if args.projection else list(PROJECTIONS),
                             args.workers))
    else:
        serve(SPEC)


if __name__ == "__main__":
    main(sys.argv[1:])
