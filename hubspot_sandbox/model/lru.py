"""A small thread-safe least-recently-used map bounded by the total weight of its entries.

Handler threads read the account at the same time, so every operation takes the lock. An entry's
weight is set by `weigh` once the caller knows it (a record context weighs what it memoised).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """Entries of total weight at most `budget` (each weighs 1 until weighed); least recent go first."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The entry of `key`, made (outside the lock) and kept when missing."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found[0]
        made = make()
        with self._lock:
            if key not in self._items:
                self._items[key] = (made, 1)
                self._weight += 1
                self._evict()
        return made

    def weigh(self, key: K, weight: int) -> None:
        """Set the weight of `key` (if still kept) and evict down to the budget."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._weight += weight - found[1]
                self._items[key] = (found[0], weight)
                self._evict()

    def _evict(self) -> None:
        while self._weight > self.budget and self._items:
            _, (_, weight) = self._items.popitem(last=False)
            self._weight -= weight

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._weight = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def weight(self) -> int:
        """Total weight of the entries kept."""
        return self._weight
