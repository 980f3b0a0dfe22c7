"""Refreshing associations in a daily run: they change without bumping either record's modified date.

Each association is one edge seen from both ends: a label on (a -> b) has its inverse on (b -> a),
so any change to an edge shows in either direction. Per pair of types, the daily run:
1. reads the lead direction (from the type with fewer live records, so fewer calls) for the records
   new to the index plus a rotating slice of the live ones (each id once every `association_refresh_days`;
   1 = every id, an exact rescan; every id too when that takes no more calls) and compares what it
   read with the index;
2. reads the other direction only for the records new to the index and for the far
   ends of every edge the lead read found added, removed or relabelled.
A record's associations are re-read whole or not at all, into `scope: from_ids` segments (the lead
direction with every id read is `scope: full`). A pair new to the index is read whole both ways.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync.compare import differing
from hubspot_pipeline.sync.full_sync import ASSOCIATION_BATCH, Watermark, sync_associations
from hubspot_pipeline.sync.index import (
    ASSOCIATION_SCHEMA,
    REFRESHED_SCHEMA,
    AssociationSegment,
    association_key,
    refreshed_ids_key,
)
from hubspot_pipeline.sync.index_reader import IndexReader
from hubspot_pipeline.sync.index_writer import SegmentFile

_KEYS = ["from_id", "to_id", "type_id"]


def rotating_slice(ids: np.ndarray, every: int, day: int) -> np.ndarray:
    """The share of `ids` due today: each id once every `every` days (all of them for 1)."""
    return ids if every <= 1 else ids[ids % every == day % every]


def lead_pairs(
    pairs: list[tuple[str, str]], live_count: Callable[[str], int]
) -> Iterator[tuple[tuple[str, str], tuple[str, str] | None]]:
    """Each pair of types once: (lead direction, the other direction or None if it is not defined)."""
    directed = set(pairs)
    seen: set[frozenset[str]] = set()
    for a, b in pairs:
        if frozenset((a, b)) in seen:
            continue
        seen.add(frozenset((a, b)))
        if (b, a) not in directed or a == b:
            yield (a, b), None
        elif live_count(b) < live_count(a):
            yield (b, a), (a, b)
        else:
            yield (a, b), (b, a)


class _Keeping:
    """Passes association rows on to the segment file and keeps their keys for the comparison."""

    def __init__(self, out: SegmentFile) -> None:
        self.out, self.keys, self.rows_appended = out, list[pa.Table](), out.rows_appended

    def append(self, table: pa.Table) -> None:
        self.out.append(table)
        self.rows_appended = self.out.rows_appended
        self.keys.append(table.select(_KEYS))


def far_ends_changed(read: list[pa.Table], indexed: pa.Table) -> np.ndarray:
    """Sorted to-ids of the edges that differ between what was read and what the index holds."""
    keys = pa.concat_tables(read) if read else indexed.slice(0, 0)
    return differing(keys.select(_KEYS), indexed.select(_KEYS), "to_id")


@dataclass
class AssociationRefresh:
    """One daily run's association reads, written as one delta segment file (and its refreshed ids)."""

    client: HubSpotClient
    reader: IndexReader
    watermark: Watermark
    every: int  # association_refresh_days
    day: int
    live: dict[str, np.ndarray]  # ids live after this run's record reads, per type
    new: dict[str, np.ndarray]  # ids read today that the index did not hold live (created, restored)
    # a resync of restored records: only the pairs with new ids, each read for those ids alone
    only_new: bool = False
    stats: dict[str, dict[str, int]] = field(default_factory=dict)

    def run(
        self, destination: Destination, gen: str, pairs: list[tuple[str, str]], tmp: str
    ) -> list[AssociationSegment]:
        known = set(self.reader.manifest.pairs())
        key, ids_key = association_key(gen), refreshed_ids_key(gen)
        segments: list[AssociationSegment] = []
        with SegmentFile(ASSOCIATION_SCHEMA, tmp) as out, SegmentFile(REFRESHED_SCHEMA, tmp) as refreshed:

            def read(
                pair: tuple[str, str], ids: np.ndarray, full: bool, keep: _Keeping | None = None
            ) -> None:
                sink = keep or out
                rows, _ = sync_associations(
                    self.client, sink, pair[0], pair[1], array("q", ids.tolist()), self.watermark
                )
                if not full:
                    n = len(ids)
                    refreshed.append(
                        pa.table(
                            {"from_type": [pair[0]] * n, "to_type": [pair[1]] * n, "from_id": ids},
                            schema=REFRESHED_SCHEMA,
                        )
                    )
                scope, ids_at = ("full", "") if full else ("from_ids", ids_key)
                segments.append(AssociationSegment(pair[0], pair[1], key, rows, scope, ids_at))
                self.stats[f"{pair[0]}/{pair[1]}"] = {"from_ids_read": len(ids), "rows": rows}

            for lead, other in lead_pairs(pairs, lambda t: len(self.live[t])):
                if self.only_new and not any(len(self.new.get(t, [])) for t in (*lead, *(other or ()))):
                    continue
                if lead not in known or (other is not None and other not in known):
                    read(lead, self.live[lead[0]], True)  # new to the index: both ways whole
                    if other is not None:
                        read(other, self.live[other[0]], True)
                    continue
                ids, whole = self._due(lead[0])
                keep = _Keeping(out)
                read(lead, ids, whole, keep)
                if other is None:
                    continue
                indexed = self.reader.association_keys(*lead, None if whole else ids)
                ends = far_ends_changed(keep.keys, indexed)
                ends = np.union1d(ends, self._held_from_the_other_side(lead, other, keep.keys))
                ends = np.intersect1d(ends, self.live[other[0]])
                read(other, np.union1d(self.new.get(other[0], ends[:0]), ends).astype(np.int64), False)
            out.upload(destination, key)
            refreshed.upload(destination, ids_key)
        return segments

    def _held_from_the_other_side(
        self, lead: tuple[str, str], other: tuple[str, str], read: list[pa.Table]
    ) -> np.ndarray:
        """Far ends of edges the index holds towards today's new lead records from the other side only.

        A record can enter the index after it was met as a far end (search showed it late, or it was
        restored): the other direction's rows then hold its edges while the lead direction has none to
        compare with. Those the lead read does not show are gone; their far ends are re-read."""
        new = self.new.get(lead[0])
        if new is None or not len(new):
            return np.array([], dtype=np.int64)
        towards = self.reader.association_keys(*other, None, to_ids=new)
        if not towards.num_rows:
            return np.array([], dtype=np.int64)
        held = pa.table({"from_id": towards.column("to_id"), "to_id": towards.column("from_id")})
        wanted = pa.array(new, pa.int64())
        shown = [t.filter(pc.is_in(t.column("from_id"), wanted)).select(["from_id", "to_id"]) for t in read]
        if shown:
            held = held.join(pa.concat_tables(shown), ["from_id", "to_id"], join_type="left anti")
        return np.unique(held.column("to_id").to_numpy())

    def _due(self, type_id: str) -> tuple[np.ndarray, bool]:
        """The lead ids to read today, and whether they are all of them: the new ones plus today's
        slice, or every live id when that takes no more calls (small types)."""
        live = self.live[type_id]
        if self.only_new:
            return self.new.get(type_id, live[:0]).astype(np.int64), False
        due = rotating_slice(live, self.every, self.day)
        due = np.union1d(self.new.get(type_id, due[:0]), due).astype(np.int64)
        if math.ceil(len(live) / ASSOCIATION_BATCH) <= math.ceil(len(due) / ASSOCIATION_BATCH):
            return live, True
        return due, False
