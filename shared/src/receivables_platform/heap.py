"""Garbage collection for the platform's long-running processes.

CPython collects its youngest generation every 700 allocations and, now and then,
walks every object alive: start-up's modules, pydantic schemas and OpenAPI too,
some 100,000 objects. Under load such a full collection stopped a standalone
consumer for 50-100 ms, every event in flight waiting it out; and a bulk import or
the outbox relay allocates a few dozen short-lived, acyclic objects per row, so at
the defaults collection took a third of their CPU.
"""

from __future__ import annotations

import gc

YOUNG_COLLECTION_EVERY = 50_000  # allocations; memory stays bounded by the batch, not the file


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
