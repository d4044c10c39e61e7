"""The objects a value holds that the garbage collector tracks.

A full collection walks every tracked object of the oldest generation with the
event loop stopped, so what a service keeps for long (remembered states, caches)
should hold as few as it can: a tuple of plain values, which the collector stops
tracking after its first young collection, costs nothing; a model or dataclass
instance, a set, a UUID, or a tuple holding one of those, costs one each.
"""

from __future__ import annotations

import gc
from collections import Counter
from types import FunctionType, ModuleType
from typing import Any

_SHARED = (type, ModuleType, FunctionType)


def tracked_objects(root: Any) -> Counter[str]:
    """The tracked objects reachable from `root`, by type name. Call `gc.collect()` first
    to see a long-kept value as the collector does. Types, modules and functions are
    shared by every value, so they are left out."""
    seen: set[int] = set()
    found: Counter[str] = Counter()
    todo = [root]
    while todo:
        item = todo.pop()
        if id(item) in seen or not gc.is_tracked(item) or isinstance(item, _SHARED):
            continue
        seen.add(id(item))
        found[type(item).__name__] += 1
        todo.extend(gc.get_referents(item))
    return found
