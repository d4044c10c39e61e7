"""Every garbage collection over `GC_PROBE_MS` in every Python process that starts with this
folder on its PYTHONPATH: the probe that found the pipeline's latency tail (issue 23,
session 12: full collections of 50-136 ms in the standalone consumer).

    PYTHONPATH=bench/gc_probe .venv/bin/python bench/bench_pipeline.py --brokers kafka

Child processes inherit PYTHONPATH (`bench_pipeline` passes it on to its relay and consumer),
so each writes `$GC_PROBE_DIR/<pid>.log` (default /tmp/gc-probe): a line a long collection
(wall time, generation, ms, objects collected, the process's command line) and, at exit,
the count, total and longest pause of each generation, also every
`GC_PROBE_SUMMARY_SECONDS` (60) for a process that is killed rather than exits. A
collection's time is wall time: on a busy machine it includes the process being descheduled.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import time
from pathlib import Path
from typing import Any

_DIR = Path(os.environ.get("GC_PROBE_DIR", "/tmp/gc-probe"))
_LONG_MS = float(os.environ.get("GC_PROBE_MS", "2"))
_SUMMARY_EVERY = float(os.environ.get("GC_PROBE_SUMMARY_SECONDS", "60"))
_started = [0.0]
_next_summary = [time.monotonic() + _SUMMARY_EVERY]
_pauses: dict[int, tuple[int, float, float]] = {}


def _log(line: str) -> None:
    _DIR.mkdir(parents=True, exist_ok=True)
    with (_DIR / f"{os.getpid()}.log").open("a") as out:
        out.write(line + "\n")


def _timed(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[0] = time.perf_counter()
        return
    ms = (time.perf_counter() - _started[0]) * 1000
    generation = info["generation"]
    count, total, longest = _pauses.get(generation, (0, 0.0, 0.0))
    _pauses[generation] = (count + 1, total + ms, max(longest, ms))
    if time.monotonic() >= _next_summary[0]:  # a process killed at the end never exits
        _next_summary[0] = time.monotonic() + _SUMMARY_EVERY
        _summary()
    if ms > _LONG_MS:
        collected, command = info["collected"], " ".join(sys.argv)[:160]
        _log(f"{time.time():.3f} gen{generation} {ms:.1f} ms collected={collected} {command}")


def _summary() -> None:
    parts = [
        f"gen{g}: {n} collections, {total:.0f} ms in all, longest {longest:.1f} ms"
        for g, (n, total, longest) in sorted(_pauses.items())
    ]
    _log(f"summary {' '.join(sys.argv)[:160]}: " + "; ".join(parts))


gc.callbacks.append(_timed)
atexit.register(_summary)
