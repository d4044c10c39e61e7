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

Beside the services runs the floor (`floor_app.py`): a bare FastAPI + asyncpg
route doing one INSERT in a transaction, served with the services' uvicorn
settings. It is measured first, the same way (its process, PostgreSQL, this
client), and every row then says its CPU without the client as a multiple of
the floor's (`x floor`): a write at ten times a plain insert is where to look.
The mix's rows also say it as a multiple of this client's own CPU a request in the same
run: the client does the same work whatever the services do, so when the machine's
speed moves between runs (it does, by a third within minutes on a shared host), that
multiple is the one two runs compare by.

    .venv/bin/python bench/bench_route_cpu.py --count 300
Uses DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS when set, else embedded servers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from floor_app import FLOOR_PATH
from process_cpu import CpuMeter, postmaster, process_tree, stop, system_meter, the_process

from receivables_devkit.infra.embedded_postgres import database_url
from receivables_devkit.infra.ports import free_port
from receivables_devkit.infra.servers import add_database_transport, servers
from receivables_devkit.testing.load import MixedWorkload, Operation, Recorder
from receivables_devkit.testing.system import RunningSystem
from receivables_platform import event_loop

SHORT = {
    "billing-adapter": "billing",
    "reporting-service": "reporting",
    "case-service": "cases",
    "collections-service": "collections",
    "postgres": "postgres",
    "load client": "client",
}


async def idle_rates(meter: CpuMeter, seconds: float) -> dict[str, float]:
    """CPU seconds per second each group uses with no requests (polls, timers)."""
    meter.start()
    await asyncio.sleep(seconds)
    return {name: used / seconds for name, used in meter.used().items()}


async def cost(
    op: Operation,
    workload: MixedWorkload,
    meter: CpuMeter,
    idle: dict[str, float],
    args: argparse.Namespace,
    runs: int,
    clients: int,
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
    per_request = {
        name: max(0.0, cpu - idle[name] * window) / requests * 1000 for name, cpu in used.items()
    }
    return recorder.requests, recorder.errors, wall, per_request


CLIENT = "load client"


def spawn_floor(env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    with (logs / "floor.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("floor_app.py"))],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def start_floor(server: str, logs: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The floor app in its own process and database, ready; and its URL."""
    name = f"t_floor_{os.getpid()}_{int(time.time())}"
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(server, name), "HTTP_PORT": str(port)}
    proc = spawn_floor(env, logs)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"{url}/health") as response:
                    if response.status == 204:
                        return proc, url
            except aiohttp.ClientError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the floor app did not start; see {logs / 'floor.log'}")
            await asyncio.sleep(0.1)


async def floor_cost(
    http: aiohttp.ClientSession,
    url: str,
    meter: CpuMeter,
    idle: dict[str, float],
    args: argparse.Namespace,
) -> tuple[int, int, float, dict[str, float]]:
    """(requests, errors, wall seconds, CPU ms per request by group) of `5 x --count`
    inserts: a tenth of a millisecond each is near the clock tick the kernel counts CPU
    time in, so the floor takes more runs than a route for the same precision."""
    runs = 5 * args.count
    gate = asyncio.Semaphore(args.clients)
    errors = 0

    async def once() -> None:
        nonlocal errors
        async with gate, http.post(f"{url}{FLOOR_PATH}") as response:
            await response.read()
            errors += response.status != 201

    meter.start()
    began = time.perf_counter()
    await asyncio.gather(*(once() for _ in range(runs)))
    wall = time.perf_counter() - began
    await asyncio.sleep(args.settle)
    window = time.perf_counter() - began
    per_request = {
        name: max(0.0, cpu - idle[name] * window) / runs * 1000
        for name, cpu in meter.used().items()
    }
    return runs, errors, wall, per_request


def served(per_request: dict[str, float]) -> float:
    """CPU ms per request of the system, without the load client's share."""
    return sum(per_request.values()) - per_request.get(CLIENT, 0.0)


@dataclass
class Measured:
    op: Operation
    requests: int  # in `--count` runs
    per_request: dict[str, float]  # CPU ms by process group


def weighted(measured: list[Measured]) -> dict[str, float]:
    """CPU ms per request by group of the mix, from its operations measured one by one."""
    weight = sum(m.op.weight * m.requests for m in measured)
    return {
        name: sum(m.op.weight * m.requests * m.per_request[name] for m in measured) / weight
        for name in measured[0].per_request
    }


def interleaved(workload: MixedWorkload) -> Operation:
    """The mix as the load benchmark draws it, one operation after another at random: what
    each process does between two requests of a kind costs it caches and batching."""

    async def run(scheduled: float) -> None:
        await workload.draw().run(scheduled)

    return Operation("the load mix, interleaved", 1.0, (), run)


def capacity(per_request: dict[str, float], idle: dict[str, float], rate: float) -> str:
    """What the measured CPU per request leaves room for on this machine's cores."""
    every = sum(per_request.values())
    served = every - per_request.get(CLIENT, 0.0)
    cores, idle_cores = os.cpu_count() or 1, sum(idle.values())
    ceiling = (cores - idle_cores) / every * 1000
    elsewhere = (cores - idle_cores + idle.get("load client", 0.0)) / served * 1000
    return (
        f"  {every:.2f} ms of CPU a request ({served:.2f} without this client), idle use "
        f"{idle_cores:.2f} of a core: at most {ceiling:.0f} req/s on these {cores} cores "
        f"busy to the last cycle ({elsewhere:.0f} with the client elsewhere); {rate:g} req/s "
        f"needs {idle_cores + rate * every / 1000:.1f} cores "
        f"({idle_cores + rate * served / 1000:.1f} without the client)"
    )


def row(
    name: str, requests: int, errors: int, wall: float, per: dict[str, float], floor: float
) -> str:
    """One operation's figures; `floor` is the floor's CPU ms per request without the client."""
    return (
        f"{name[:36]:36} {requests:>5} {errors:>4} {wall:>6.1f} "
        + " ".join(f"{cpu:>11.2f}" for cpu in per.values())
        + f" {sum(per.values()):>7.2f}"
        + f" {served(per) / floor if floor > 0 else float('nan'):>7.1f}"
    )


async def ready_workload(
    system: RunningSystem, http: aiohttp.ClientSession, seed: int
) -> MixedWorkload:
    """The load mix against the running system, its accounts made and known everywhere."""
    workload = MixedWorkload(
        http,
        {name: system.url(name) for name in system.processes},
        lambda role, sub: system.token(role, sub=sub),
        Recorder(),
        seed=seed,
    )
    await workload.discover()
    await workload.warm_up()
    await asyncio.sleep(workload.visible_after)  # every account known everywhere
    return workload


def against_controls(per: dict[str, float], floor: float) -> str:
    """The platform's CPU a request against two controls: the floor (measured before, the
    same way) and this client's own CPU a request in the same run, whose work does not
    depend on the services; when the machine's speed moves between runs, the client's
    multiple moves least, so it is what two runs compare by."""
    return (
        f"  {served(per) / floor:.1f} x the floor; "
        f"{served(per) / per[CLIENT]:.1f} x this client's own CPU a request"
    )


async def measure(server: str, bootstrap: str, logs: Path, args: argparse.Namespace) -> None:
    system = RunningSystem(server, bootstrap, logs)
    floor_proc: subprocess.Popen[bytes] | None = None
    try:
        await system.start()
        floor_proc, floor_url = await start_floor(server, logs)
        connector = aiohttp.TCPConnector(limit=100, keepalive_timeout=3)
        async with aiohttp.ClientSession(connector=connector) as http:
            workload = await ready_workload(system, http, args.seed)
            meter = await system_meter(system, server)
            floor_meter = CpuMeter(
                {
                    "floor": the_process(floor_proc.pid),
                    "postgres": process_tree(await postmaster(server)),
                    CLIENT: the_process(os.getpid()),
                }
            )
            idle, floor_idle = await asyncio.gather(
                idle_rates(meter, args.idle), idle_rates(floor_meter, args.idle)
            )
            names = list(idle)
            print(
                f"{args.count} runs of each operation, {args.clients} at a time, "
                f"{args.settle:g} s to settle; CPU ms per request (idle use subtracted); "
                f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; "
                f"PostgreSQL over {args.over}",
                flush=True,
            )
            print(
                f"{'operation':36} {'reqs':>5} {'err':>4} {'wall s':>6} "
                + " ".join(f"{SHORT.get(n, n)[:11]:>11}" for n in names)
                + f" {'all':>7} {'x floor':>7}",
                flush=True,
            )
            requests, errors, wall, per = await floor_cost(
                http, floor_url, floor_meter, floor_idle, args
            )
            floor = served(per)
            print(
                f"{'the floor: one INSERT, bare FastAPI':36} {requests:>5} {errors:>4} "
                f"{wall:>6.1f}   floor {per['floor']:.2f}, postgres {per['postgres']:.2f}, "
                f"client {per[CLIENT]:.2f}: {floor:.2f} ms without the client",
                flush=True,
            )
            measured: list[Measured] = []
            for op in workload.operations:
                if args.only and not any(part in op.name for part in args.only):
                    continue
                requests, errors, wall, per = await cost(
                    op, workload, meter, idle, args, args.count, args.clients
                )
                measured.append(Measured(op, requests, per))
                print(row(op.name, requests, errors, wall, per, floor), flush=True)
            if len(measured) < len(workload.operations):
                return
            print("the load mix from its operations one by one, weighted as it draws them:")
            mix_weighted = weighted(measured)
            print(capacity(mix_weighted, idle, args.rate), flush=True)
            print(against_controls(mix_weighted, floor), flush=True)
            mix = interleaved(workload)
            for clients in (args.clients, 4 * args.clients):
                requests, errors, wall, per = await cost(
                    mix, workload, meter, idle, args, 4 * args.count, clients
                )
                print(
                    row(
                        f"the mix interleaved, {clients} at a time",
                        requests,
                        errors,
                        wall,
                        per,
                        floor,
                    )
                )
                print(capacity(per, idle, args.rate), flush=True)
                print(against_controls(per, floor), flush=True)
    finally:
        if floor_proc is not None:
            floor_proc.terminate()
            floor_proc.wait(10)
        await stop(system, logs)


def add_mix_options(parser: argparse.ArgumentParser, count: int) -> None:
    """How the load mix's operations run, one by one and interleaved (`--count` each)."""
    parser.add_argument("--count", type=int, default=count, help="runs of each operation")
    parser.add_argument("--clients", type=int, default=4, help="runs in flight at once")
    parser.add_argument(
        "--settle",
        type=float,
        default=1.5,
        help="seconds after each operation's runs for the work they set off",
    )
    parser.add_argument("--seed", type=int, default=1, help="workload random seed")
    parser.add_argument(
        "--idle",
        type=float,
        default=10.0,
        help="seconds of measuring what the system uses with no requests",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="operations whose name contains this (repeatable), e.g. 'invoice'",
    )
    add_database_transport(parser)


Measurement = Callable[[str, str, Path, argparse.Namespace], Coroutine[Any, Any, None]]


def run_against_servers(
    measure: Measurement, args: argparse.Namespace, name: str, postgres_settings: str = ""
) -> None:
    """`measure(server, bootstrap, logs, args)` on uvloop, with the servers `servers` gives
    (embedded unless the environment names them), stopped cleanly on SIGTERM too."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with (
        tempfile.TemporaryDirectory(prefix=f"rx-{name}-") as tmp,
        servers(
            Path(tmp), over_socket=args.over == "socket", postgres_settings=postgres_settings
        ) as (server, bootstrap),
    ):
        logs = Path(tempfile.mkdtemp(prefix=f"rx-{name}-logs-"))
        event_loop.run(measure(server, bootstrap, logs, args))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_mix_options(parser, count=300)
    parser.add_argument(
        "--rate",
        type=float,
        default=500.0,
        help="requests a second to size the cores for (the load target)",
    )
    run_against_servers(measure, parser.parse_args(), "route-cpu")
    return 0


if __name__ == "__main__":
    sys.exit(main())
