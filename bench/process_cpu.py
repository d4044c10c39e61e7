"""CPU seconds used by the processes of a benchmark run: services, PostgreSQL, the client.

Wall-clock figures on a shared machine say as much about the neighbours as about
the code; the CPU a process used for a unit of work does not.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import psutil

from receivables_devkit.testing.system import RunningSystem


def machine_speed(iterations: int = 5_000_000) -> float:
    """Seconds of CPU one core takes for a fixed pure-Python loop: the same code measures
    very differently on a slower or busier machine, so each run says how fast its was."""
    began = time.process_time()
    total = 0
    for i in range(iterations):
        total += i
    return time.process_time() - began


def process_tree(root: psutil.Process | None) -> Callable[[], list[psutil.Process]]:
    """A process and every process under it, listed afresh each time: PostgreSQL's
    postmaster opens a backend per new connection, a service run with several API
    processes (`WEB_CONCURRENCY`) restarts a worker that died."""

    def listed() -> list[psutil.Process]:
        if root is None:
            return []
        try:
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return [root]

    return listed


def the_process(pid: int) -> Callable[[], list[psutil.Process]]:
    proc = psutil.Process(pid)
    return lambda: [proc]


async def postmaster(server: str) -> psutil.Process | None:
    """The parent of a backend of ours, asked while that backend lives."""
    conn = await asyncpg.connect(server)
    try:
        return psutil.Process(await conn.fetchval("SELECT pg_backend_pid()")).parent()
    except psutil.Error:
        return None  # a server on another host: its CPU is not ours to see
    finally:
        await conn.close()


def broker_processes() -> list[psutil.Process]:
    """The embedded broker, a child of this process (none when the environment names one)."""
    return [child for child in psutil.Process().children() if child.name().startswith("tansu")]


class CpuMeter:
    """CPU seconds (user + system) each named group of processes used since `start`; a
    process that appears later counts from its start. One that ended counts when its
    parent is in a group and reaped it (PostgreSQL's backends of a client that exited);
    otherwise it is lost."""

    def __init__(self, groups: dict[str, Callable[[], list[psutil.Process]]]) -> None:
        self.groups = groups
        self.began: dict[int, float] = {}

    @staticmethod
    def _seconds(proc: psutil.Process) -> float | None:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            return None
        return times.user + times.system + times.children_user + times.children_system

    def start(self) -> None:
        self.began = {
            proc.pid: seconds
            for procs in self.groups.values()
            for proc in procs()
            if (seconds := self._seconds(proc)) is not None
        }

    def used(self) -> dict[str, float]:
        return {
            name: sum(
                seconds - self.began.get(proc.pid, 0.0)
                for proc in procs()
                if (seconds := self._seconds(proc)) is not None
            )
            for name, procs in self.groups.items()
        }


async def system_meter(system: RunningSystem, server: str) -> CpuMeter:
    """A meter over each service of `system`, PostgreSQL's processes, the embedded broker
    and this process."""
    return CpuMeter(
        {
            **{
                name: process_tree(psutil.Process(proc.proc.pid))
                for name, proc in system.processes.items()
                if proc.proc is not None
            },
            "postgres": process_tree(await postmaster(server)),
            "broker": broker_processes,
            "load client": the_process(os.getpid()),
        }
    )


async def stop(system: RunningSystem, logs: Path) -> None:
    """Stop the services, saying what went wrong on the way and where their logs are."""
    for problem in await system.stop():
        print(f"shutdown problem: {problem}", file=sys.stderr)
    print(f"service logs: {logs}")
