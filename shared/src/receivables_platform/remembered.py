"""A bounded map of recent answers: the least recently used goes first when it is full.

A service keeps a few answers in memory that would otherwise cost a query on
every request (an aggregate's latest committed state, a verified token's caller,
the account an invoice belongs to). The bound keeps memory from growing with
the data; what each may remember, and when, is its owner's rule.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Remembered(Generic[K, V]):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._answers: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._answers.get(key)
        if found is not None:
            self._answers.move_to_end(key)
        return found

    def put(self, key: K, value: V) -> None:
        self._answers[key] = value
        self._answers.move_to_end(key)
        while len(self._answers) > self.limit:
            self._answers.popitem(last=False)

    def forget(self, key: K) -> None:
        self._answers.pop(key, None)

    def __len__(self) -> int:
        return len(self._answers)
