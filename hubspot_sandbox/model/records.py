"""Per-type record storage: compact numpy columns plus an overlay of records changed since day 0.

A record's property values are never stored: they are generated from (seed, type, id) on
demand. What is stored per record is what search and paging need (id, created, updated,
archived-at), all as numpy int64 columns indexed by position ("idx"), which never changes.
Records touched by `advance()` get an `Overlay` holding the new history entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .properties import PropertyRegistry
from .rng import combine
from .types import Entry, ObjectType

MAX_ID = int(np.iinfo(np.int64).max)


@dataclass(slots=True)
class Overlay:
    """What changed on a record after day 0: new history entries (newest first) and events."""

    base_updated: int  # updatedAt before the first change; the generator's upper time bound
    props: dict[str, list[Entry]] = field(default_factory=dict)
    events: list[tuple[int, str, int]] = field(default_factory=list)  # (ms, event type, serial)


class TypeTable:
    """All records of one object type."""

    def __init__(
        self,
        otype: ObjectType,
        registry: PropertyRegistry,
        history_cap: int,
        key: int,
        ids: np.ndarray,
        created: np.ndarray,
        updated: np.ndarray,
    ) -> None:
        self.otype = otype
        self.registry = registry
        self.history_cap = history_cap
        self.key = key
        self.ids = ids.astype(np.int64)
        self.created = created.astype(np.int64)
        self.updated = updated.astype(np.int64)
        self.archived = np.zeros(len(ids), dtype=np.int64)  # archivedAt ms, 0 while live
        self.overlay: dict[int, Overlay] = {}
        self.merged: dict[int, int] = {}  # idx merged away -> idx of the record it was merged into
        self.version = 0  # bumped on every change; search caches key on it

    @property
    def type_id(self) -> str:
        """The object type id (`0-1`, `2-...`)."""
        return self.otype.type_id

    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self, record_id: int) -> int | None:
        """Position of a record id, or None if no such record ever existed."""
        i = int(np.searchsorted(self.ids, record_id))
        if i < len(self.ids) and int(self.ids[i]) == record_id:
            return i
        return None

    def indices_of(self, record_ids: list[int]) -> list[int | None]:
        """`index_of` of many ids in one search."""
        if not record_ids or not len(self.ids):
            return [None] * len(record_ids)
        # Ids beyond int64 (clients send any digits) exist nowhere: search for -1 instead.
        wanted = np.array([i if 0 <= i <= MAX_ID else -1 for i in record_ids], dtype=np.int64)
        found = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        hits = self.ids[found] == wanted
        return [int(i) if hit else None for i, hit in zip(found.tolist(), hits.tolist(), strict=True)]

    def record_seed(self, idx: int) -> int:
        """The 64-bit seed every generated value of this record derives from."""
        return combine(self.key, int(self.ids[idx]))

    def base_updated(self, idx: int) -> int:
        """updatedAt as generated (before any overlay change)."""
        ov = self.overlay.get(idx)
        return ov.base_updated if ov is not None else int(self.updated[idx])

    def overlay_for(self, idx: int) -> Overlay:
        """The record's overlay, created on first change."""
        ov = self.overlay.get(idx)
        if ov is None:
            ov = self.overlay[idx] = Overlay(int(self.updated[idx]))
        return ov

    def append(self, new_ids: np.ndarray, created: np.ndarray) -> int:
        """Add records (ids above every existing one); returns the first new idx."""
        start = len(self.ids)
        self.ids = np.concatenate([self.ids, new_ids.astype(np.int64)])
        self.created = np.concatenate([self.created, created.astype(np.int64)])
        self.updated = np.concatenate([self.updated, created.astype(np.int64)])
        self.archived = np.concatenate([self.archived, np.zeros(len(new_ids), dtype=np.int64)])
        self.version += 1
        return start

    def live_indices(self) -> np.ndarray:
        """Positions of records that are not archived."""
        return np.flatnonzero(self.archived == 0)

    def next_ids(self, count: int, gaps: np.ndarray) -> np.ndarray:
        """`count` new ascending ids after the current maximum, spaced by `gaps` (>= 1)."""
        last = int(self.ids[-1]) if len(self.ids) else 0
        return last + np.cumsum(gaps[:count].astype(np.int64))
