"""Garbage collection for the platform's long-running processes.

CPython collects its youngest generation every 700 allocations and, now and then,
walks every object alive: start-up's modules, pydantic schemas and OpenAPI too,
some 100,000 objects. Under load such a full collection stopped a standalone
consumer for 50-100 ms, every event in flight waiting it out; and a bulk import or
the outbox relay allocates a few dozen short-lived, acyclic objects per row, so at
the defaults collection took a third of their CPU.

A service also keeps what it remembers for minutes (billing-adapter up to 5,000
account states, some 200,000 objects): every full collection walked all of it
again, 0.3-0.74 s every 30-60 s once the cache was full, and that stall was
billing's p99 at 200 requests/s. So a service freezes what survives each full
collection too (`freeze_survivors`): the next one walks only what came since.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

YOUNG_COLLECTION_EVERY = 50_000  # allocations; memory stays bounded by the batch, not the file
THAW_EVERY_SECONDS = 600.0
"""How often the frozen survivors are walked again: the one full collection after a thaw
frees the reference cycles that died frozen (a closed connection's protocol and
transport), so what they hold is bounded by ten minutes' worth, not the process's life."""


def freeze_start_up() -> None:
    """Call once start-up is done: what exists by then lives as long as the process, and no
    later collection walks it again (nor frees it: call it before the work, not during)."""
    gc.freeze()


def collect_for_bulk_work(young_every: int = YOUNG_COLLECTION_EVERY) -> None:
    """`freeze_start_up`, and young collections far apart.

    A process that keeps many objects alive per unit of work (a batch of
    thousands of events until it commits) collects less often still: each
    young collection walks every object allocated since the last one.
    """
    freeze_start_up()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_every, middle, old)


class _SurvivorFreezer:
    """A `gc.callbacks` entry: after each full collection, freeze what survived it, or, once
    `thaw_every` has passed since the last thaw, thaw everything instead."""

    def __init__(self, thaw_every: float, clock: Callable[[], float]) -> None:
        self.thaw_every, self.clock = thaw_every, clock
        self.thawed_at = clock()

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info["generation"] != 2:
            return
        now = self.clock()
        if now - self.thawed_at >= self.thaw_every:
            gc.unfreeze()  # the next full collection walks everything once
            self.thawed_at = now
        else:
            gc.freeze()


def freeze_survivors(
    thaw_every: float = THAW_EVERY_SECONDS, clock: Callable[[], float] = time.monotonic
) -> None:
    """From now on, what survives a full collection is left out of the next ones.

    Objects frozen are still freed when their last reference goes (an evicted
    remembered state is); only a reference cycle that dies frozen waits for the
    next thaw. Installed once per process; calling it again changes nothing.
    """
    if not any(isinstance(c, _SurvivorFreezer) for c in gc.callbacks):
        gc.callbacks.append(_SurvivorFreezer(thaw_every, clock))


def stop_freezing_survivors() -> None:
    """Undo `freeze_survivors` and thaw what it froze: a test leaves its process as it found it."""
    gc.callbacks[:] = [c for c in gc.callbacks if not isinstance(c, _SurvivorFreezer)]
    gc.unfreeze()
