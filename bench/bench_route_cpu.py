"""CPU per request, route by route: what each operation of the load mix costs the system.

The system load benchmark says whether the whole mix keeps up; this one says
where the CPU goes. All four services run as `make run` starts them; after the
load mix's warm-up, each of its operations runs `--count` times, `--clients`
at a time, and then the system is given `--settle` seconds to finish what the
requests set off (the relay publishing, other services' consumers projecting).
For each operation it prints the CPU seconds (user + system) every process
used per request: each service, PostgreSQL's server processes and this client,
less what they use idle. CPU per request depends little on what else the
machine runs, so figures from a shared machine compare across changes.

When every operation ran, it ends with what the load mix costs as a whole:
first from the operations one by one (each weighted as the system load
benchmark draws it), then from the mix itself, its operations interleaved at
random as that benchmark sends them, `--clients` and four times as many at a
time, `4 x --count` runs each. Interleaved costs more than apart (caches,
smaller batches); more at a time costs less (larger batches everywhere). Each
says how many requests a second the machine's cores could serve at best, busy
to the last cycle, with no queueing: a ceiling no tuning of the wall-clock run
gets past; and the cores `--rate` needs.

    .venv/bin/python bench/bench_route_cpu.py --count 300
Uses DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS when set, else embedded servers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from client_loop import run_client
from process_cpu import CpuMeter, stop, system_meter

from receivables_devkit.infra.servers import servers
from receivables_devkit.testing.load import MixedWorkload, Operation, Recorder
from receivables_devkit.testing.system import RunningSystem

SHORT = {"billing-adapter": "billing", "reporting-service": "reporting",
         "case-service": "cases", "collections-service": "collections",
         "postgres": "postgres", "load client": "client"}


async def idle_rates(meter: CpuMeter, seconds: float) -> dict[str, float]:
    """CPU seconds per second each group uses with no requests (polls, timers)."""
    meter.start()
    await asyncio.sleep(seconds)
    return {name: used / seconds for name, used in meter.used().items()}


async def cost(op: Operation, workload: MixedWorkload, meter: CpuMeter, idle: dict[str, float],
               args: argparse.Namespace, runs: int, clients: int
               ) -> tuple[int, int, float, dict[str, float]]:
    """(requests, errors, wall seconds, CPU ms per request by group) of `runs` runs of `op`."""
    recorder = Recorder()
    workload.recorder = recorder
    gate = asyncio.Semaphore(clients)

    async def once() -> None:
        async with gate:
            try:
                await op.run(time.perf_counter())
            except Exception as exc:  # counted by the workload's client already, or here
                if type(exc).__name__ != "Counted":
                    recorder.failed(op.name, exc)

    meter.start()
    began = time.perf_counter()
    await asyncio.gather(*(once() for _ in range(runs)))
    wall = time.perf_counter() - began
    await asyncio.sleep(args.settle)
    window = time.perf_counter() - began
    used = meter.used()
    requests = max(1, recorder.requests)
    per_request = {name: max(0.0, cpu - idle[name] * window) / requests * 1000
                   for name, cpu in used.items()}
    return recorder.requests, recorder.errors, wall, per_request


@dataclass
class Measured:
    op: Operation
    requests: int  # in `--count` runs
    per_request: dict[str, float]  # CPU ms by process group


def weighted(measured: list[Measured]) -> dict[str, float]:
    """CPU ms per request by group of the mix, from its operations measured one by one."""
    weight = sum(m.op.weight * m.requests for m in measured)
    return {name: sum(m.op.weight * m.requests * m.per_request[name] for m in measured) / weight
            for name in measured[0].per_request}


def interleaved(workload: MixedWorkload) -> Operation:
    """The mix as the load benchmark draws it, one operation after another at random: what
    each process does between two requests of a kind costs it caches and batching."""

    async def run(scheduled: float) -> None:
        await workload.draw().run(scheduled)

    return Operation("the load mix, interleaved", 1.0, (), run)


def capacity(per_request: dict[str, float], idle: dict[str, float], rate: float) -> str:
    """What the measured CPU per request leaves room for on this machine's cores."""
    every = sum(per_request.values())
    served = every - per_request.get("load client", 0.0)
    cores, idle_cores = os.cpu_count() or 1, sum(idle.values())
    ceiling = (cores - idle_cores) / every * 1000
    elsewhere = (cores - idle_cores + idle.get("load client", 0.0)) / served * 1000
    return (f"  {every:.2f} ms of CPU a request ({served:.2f} without this client), idle use "
            f"{idle_cores:.2f} of a core: at most {ceiling:.0f} req/s on these {cores} cores "
            f"busy to the last cycle ({elsewhere:.0f} with the client elsewhere); {rate:g} req/s "
            f"needs {idle_cores + rate * every / 1000:.1f} cores "
            f"({idle_cores + rate * served / 1000:.1f} without the client)")


def row(name: str, requests: int, errors: int, wall: float, per: dict[str, float]) -> str:
    return (f"{name[:36]:36} {requests:>5} {errors:>4} {wall:>6.1f} "
            + " ".join(f"{cpu:>11.2f}" for cpu in per.values()) + f" {sum(per.values()):>7.2f}")


async def measure(server: str, bootstrap: str, logs: Path, args: argparse.Namespace) -> None:
    system = RunningSystem(server, bootstrap, logs)
    try:
        await system.start()
        connector = aiohttp.TCPConnector(limit=100, keepalive_timeout=3)
        async with aiohttp.ClientSession(connector=connector) as http:
            workload = MixedWorkload(
                http, {name: system.url(name) for name in system.processes},
                lambda role, sub: system.token(role, sub=sub), Recorder(), seed=args.seed)
            await workload.discover()
            await workload.warm_up()
            await asyncio.sleep(workload.visible_after)  # every account known everywhere
            meter = await system_meter(system, server)
            idle = await idle_rates(meter, args.idle)
            names = list(idle)
            print(f"{args.count} runs of each operation, {args.clients} at a time, "
                  f"{args.settle:g} s to settle; CPU ms per request (idle use subtracted); "
                  f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
            print(f"{'operation':36} {'reqs':>5} {'err':>4} {'wall s':>6} "
                  + " ".join(f"{SHORT.get(n, n)[:11]:>11}" for n in names)
                  + f" {'all':>7}", flush=True)
            measured: list[Measured] = []
            for op in workload.operations:
                if args.only and not any(part in op.name for part in args.only):
                    continue
                requests, errors, wall, per = await cost(op, workload, meter, idle, args,
                                                         args.count, args.clients)
                measured.append(Measured(op, requests, per))
                print(row(op.name, requests, errors, wall, per), flush=True)
            if len(measured) < len(workload.operations):
                return
            print("the load mix from its operations one by one, weighted as it draws them:")
            print(capacity(weighted(measured), idle, args.rate), flush=True)
            mix = interleaved(workload)
            for clients in (args.clients, 4 * args.clients):
                requests, errors, wall, per = await cost(mix, workload, meter, idle, args,
                                                         4 * args.count, clients)
                print(row(f"the mix interleaved, {clients} at a time", requests, errors, wall,
                          per))
                print(capacity(per, idle, args.rate), flush=True)
    finally:
        await stop(system, logs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=300, help="runs of each operation")
    parser.add_argument("--clients", type=int, default=4, help="runs in flight at once")
    parser.add_argument("--settle", type=float, default=1.5,
                        help="seconds after each operation's runs for the work they set off")
    parser.add_argument("--seed", type=int, default=1, help="workload random seed")
    parser.add_argument("--idle", type=float, default=10.0,
                        help="seconds of measuring what the system uses with no requests")
    parser.add_argument("--rate", type=float, default=500.0,
                        help="requests a second to size the cores for (the load target)")
    parser.add_argument("--only", action="append", default=[],
                        help="operations whose name contains this (repeatable), e.g. 'invoice'")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with (tempfile.TemporaryDirectory(prefix="rx-route-cpu-") as tmp,
          servers(Path(tmp)) as (server, bootstrap)):
        logs = Path(tempfile.mkdtemp(prefix="rx-route-cpu-logs-"))
        run_client(measure(server, bootstrap, logs, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
