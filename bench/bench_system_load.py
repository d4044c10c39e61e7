"""System load benchmark: a mixed workload of the four services' real APIs at a fixed rate.

All four services run as separate processes (as `make run` starts them) over
one PostgreSQL server and the Kafka-protocol broker. The client (this process)
starts requests on a fixed schedule (open loop: latency counts from the
scheduled start, so queueing shows) and prints throughput, p50/p95/p99 latency
per route, errors, and append-to-visible lag: from an invoice's 201 at
billing-adapter to that invoice appearing in reporting-service's aging, polled
every 20 ms for one invoice every two seconds (the polls are not in the route
figures). Routes a service does not offer yet are skipped and listed.

Wall-clock figures depend on whatever else the machine runs, so the CPU each
process used during the run is printed too: per service (and per request it
served, relay and consumers included), PostgreSQL's server processes, and this
client, with the machine's load average.

    make bench                                  # every bench, this one at its defaults
    .venv/bin/python bench/bench_system_load.py --duration 30 --rate 200
Uses DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS when set, else embedded servers.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from process_cpu import machine_speed, stop, system_meter

from receivables_devkit.infra.servers import add_database_transport, servers
from receivables_devkit.testing.load import MixedWorkload, Recorder, percentile, report
from receivables_devkit.testing.system import RunningSystem
from receivables_platform import event_loop
from receivables_platform.heap import freeze_start_up, freeze_survivors

TARGET_P99_MS = 50.0
ROUTE_PREFIX = {
    "billing-adapter": "billing ",
    "reporting-service": "reporting ",
    "case-service": "cases ",
    "collections-service": "collections ",
}
# One API process per service, as `make run` starts them; `--processes` tries more
DEFAULT_PROCESSES = [("billing-adapter", 1)]


def service_processes(text: str) -> tuple[str, int]:
    name, _, count = text.partition("=")
    if name not in ROUTE_PREFIX or not count.isdigit() or int(count) < 1:
        raise argparse.ArgumentTypeError(
            f"expected SERVICE=N with SERVICE one of {', '.join(ROUTE_PREFIX)}, N >= 1"
        )
    return name, int(count)


def cpu_report(
    used: dict[str, float], recorder: Recorder, seconds: float, load: tuple[float, float]
) -> str:
    lines = [
        f"CPU used during the run ({seconds:.0f} s; load average {load[0]:.2f} at the "
        f"start, {load[1]:.2f} at the end, on {os.cpu_count()} CPUs):"
    ]
    for name, cpu in used.items():
        prefix = ROUTE_PREFIX.get(name)
        served = sum(
            len(s.latencies_ms) + s.errors.total()
            for route, s in recorder.routes.items()
            if prefix and route.startswith(prefix)
        )
        per = f"; {cpu / served * 1000:.2f} ms per request served ({served})" if served else ""
        lines.append(f"  {name:22} {cpu:7.1f} s = {cpu / seconds * 100:5.1f}% of a core{per}")
    total, cores = sum(used.values()), os.cpu_count() or 1
    lines.append(
        f"  {'all of the above':22} {total:7.1f} s = {total / seconds / cores * 100:5.1f}%"
        f" of the machine's {cores} cores; {total / max(1, recorder.requests) * 1000:.2f}"
        f" ms per request"
    )
    return "\n".join(lines)


async def measure(server: str, bootstrap: str, logs: Path, args: argparse.Namespace) -> int:
    system = RunningSystem(
        server,
        bootstrap,
        logs,
        service_env={name: {"WEB_CONCURRENCY": str(count)} for name, count in args.processes},
    )
    try:
        await system.start()
        # idle connections closed before uvicorn's 5 s keep-alive ends, so none is reused
        # just as the server closes it
        connector = aiohttp.TCPConnector(limit=1000, limit_per_host=0, keepalive_timeout=3)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            recorder = Recorder()
            workload = MixedWorkload(
                http,
                {name: system.url(name) for name in system.processes},
                lambda role, sub: system.token(role, sub=sub),
                recorder,
                seed=args.seed,
            )
            await workload.discover()
            await workload.warm_up()
            # set-up's accounts out of the client's full collections (130-155 ms walks of
            # 220,000 objects, each delaying every request in flight), and from then on
            # what survives one (the accounts it makes, its recorded latencies), as a
            # service does; but never thawed: the one full walk after a thaw (296 ms at
            # ten minutes) would count against every request in flight, and the client
            # lives for one run
            freeze_start_up()
            freeze_survivors(thaw_every=math.inf)
            meter = await system_meter(system, server)
            print(
                f"{len(workload.operations)} operations in the mix; "
                f"{len(workload.skipped)} skipped; running {args.duration:g} s at "
                f"{args.rate:g} req/s; API processes: "
                + ", ".join(f"{name}={n}" for name, n in args.processes),
                flush=True,
            )
            load_before = os.getloadavg()[0]
            meter.start()
            seconds = await workload.run(args.rate, args.duration)
            used = meter.used()
            print(report(recorder, seconds, args.rate, workload.skipped), flush=True)
            print(
                cpu_report(used, recorder, seconds, (load_before, os.getloadavg()[0])), flush=True
            )
            every = [ms for stats in recorder.routes.values() for ms in stats.latencies_ms]
            met = (
                not recorder.errors
                and percentile(every, 99) < TARGET_P99_MS
                and recorder.requests / seconds >= 0.99 * args.rate
            )
            print(
                f"target ({args.rate:g} req/s, p99 under {TARGET_P99_MS:g} ms, no errors): "
                f"{'met' if met else 'NOT met'}",
                flush=True,
            )
            return 0
    finally:
        await stop(system, logs)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load")
    parser.add_argument("--rate", type=float, default=500.0, help="requests started per second")
    parser.add_argument("--seed", type=int, default=1, help="workload random seed")
    parser.add_argument(
        "--processes",
        type=service_processes,
        action="append",
        metavar="SERVICE=N",
        help="serve SERVICE's API with N processes "
        "(its WEB_CONCURRENCY); repeatable. Default: "
        + ", ".join(f"{name}={n}" for name, n in DEFAULT_PROCESSES),
    )
    add_database_transport(parser)
    args = parser.parse_args()
    args.processes = args.processes or DEFAULT_PROCESSES
    # SIGTERM (a timeout, CI cancelling) unwinds like Ctrl-C, so the servers are stopped
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="rx-load-") as tmp:
        started = time.perf_counter()
        with servers(Path(tmp), over_socket=args.over == "socket") as (server, bootstrap):
            print(
                f"system load benchmark on {os.cpu_count()} cores (a 5M-step Python loop "
                f"takes {machine_speed():.2f} s of CPU here); postgres "
                f"{server.split('@')[-1]}, broker {bootstrap}",
                flush=True,
            )
            logs = Path(tempfile.mkdtemp(prefix="rx-load-logs-"))
            code = event_loop.run(measure(server, bootstrap, logs, args))
        print(f"total wall time {time.perf_counter() - started:.0f} s")
        return code


if __name__ == "__main__":
    sys.exit(main())
