"""Garbage collection for a process that streams millions of short-lived objects through.

CPython collects its youngest generation every 700 allocations and, now and
then, walks every object alive, start-up's modules and pydantic schemas too.
A bulk import or the outbox relay allocates a few dozen short-lived, acyclic
objects per row, so at the defaults collection took a third of their CPU.
"""

from __future__ import annotations

import gc

YOUNG_COLLECTION_EVERY = 50_000  # allocations; memory stays bounded by the batch, not the file


def collect_for_bulk_work(young_every: int = YOUNG_COLLECTION_EVERY) -> None:
    """Call once after start-up: what exists by then is frozen out of every later collection.

    A process that keeps many objects alive per unit of work (a batch of
    thousands of events until it commits) collects less often still: each
    young collection walks every object allocated since the last one.
    """
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_every, middle, old)
