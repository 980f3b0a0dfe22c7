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

Where HubSpot's webhooks journal gives both types' edge changes (`JournalEdges`), the records with
edge events that are not read today get their rows from the index changed as the events say
(`journal_rows`), into the same segment; the records created since it vouches are not read (their edges
are events), the restored ones are. The daily slice becomes a safety net, each id re-read once every
`journal_association_refresh_days` in as few calls as that takes (`spread_slice`). A record whose
association changed before the journal began to vouch and was not re-read since keeps its old rows
until that safety net reaches it.
"""

from __future__ import annotations

import math
import zlib
from array import array
from collections.abc import Callable, Iterator, Mapping
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
from hubspot_pipeline.sync.journal import EdgeChanges, JournalChanges

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


@dataclass(frozen=True)
class JournalEdges:
    """The association changes HubSpot's webhooks journal gives a run (`sync.journal`), for the types
    whose ASSOCIATION subscription vouches for the whole time since the index's state of them."""

    feed: JournalChanges
    since: Mapping[str, int]  # served type -> from when its edges' events are all in `feed`
    # per directed pair, association type id -> (category, label), from the labels snapshot
    labels: Mapping[tuple[str, str], Mapping[int, tuple[str | None, str | None]]]
    every: int  # the safety net: each edge still re-read at least every `every` days

    def serves(self, pair: tuple[str, str]) -> bool:
        return pair[0] in self.since and pair[1] in self.since

    def created(self, type_id: str) -> np.ndarray:
        """Records created since the journal vouches for the type's edges: their edges are events."""
        return self.feed.created(type_id, self.since[type_id])


def spread_slice(ids: np.ndarray, every: int, day: int, salt: int) -> np.ndarray:
    """The share of `ids` due today when each id is read once every `every` days in as few calls as
    that takes: a type too small for one call a day is read on only as many days of the cycle as its
    calls (`salt` spreads the pairs over the days), else a rotating slice a day."""
    calls = math.ceil(len(ids) / ASSOCIATION_BATCH)
    if calls >= every:
        return rotating_slice(ids, every, day)
    slot = (day + salt) % every
    return ids[ids % calls == slot] if slot < calls else ids[:0]


def journal_rows(
    pair: tuple[str, str],
    held: pa.Table,
    changes: EdgeChanges,
    kinds: Mapping[int, tuple[str | None, str | None]],
) -> tuple[pa.Table, np.ndarray]:
    """One direction's rows after the journal's changes, from the rows the index holds of the
    records with events (`held`, ASSOCIATION_SCHEMA), and the from-ids to read instead: those given a
    type the labels snapshot does not know (a label made since)."""
    keys, edge = ["from_id", "to_id"], ["from_id", "to_id", "type_id"]
    kept = held.select(ASSOCIATION_SCHEMA.names)
    if changes.reset.num_rows:
        kept = kept.join(changes.reset, keys, join_type="left anti")
    known = pa.table(
        {
            "type_id": pa.array(list(kinds), pa.int64()),
            "category": pa.array([c for c, _ in kinds.values()], pa.string()),
            "label": pa.array([label for _, label in kinds.values()], pa.string()),
        }
    )
    added = changes.added.join(kept.select(edge), edge, join_type="left anti")
    unread = np.unique(added.join(known, "type_id", join_type="left anti")["from_id"].to_numpy())
    labelled = added.join(known, "type_id", join_type="inner")
    n = labelled.num_rows
    new_rows = pa.table(
        {
            "from_type": pa.array([pair[0]] * n, pa.string()),
            "to_type": pa.array([pair[1]] * n, pa.string()),
            **{name: labelled[name] for name in ASSOCIATION_SCHEMA.names[2:]},
        },
        schema=ASSOCIATION_SCHEMA,
    )
    rows = pa.concat_tables([kept.cast(ASSOCIATION_SCHEMA), new_rows]).sort_by(
        [(k, "ascending") for k in edge]
    )
    return rows.filter(pc.invert(pc.is_in(rows["from_id"], pa.array(unread, pa.int64())))), unread


@dataclass
class _Done:
    """One pair's rows in this run's segment: how many, read whole or for which from-ids."""

    rows: int = 0
    full: bool = False
    ids: list[np.ndarray] = field(default_factory=list)


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
    journal: JournalEdges | None = None
    stats: dict[str, dict[str, int]] = field(default_factory=dict)

    def run(
        self, destination: Destination, gen: str, pairs: list[tuple[str, str]], tmp: str
    ) -> list[AssociationSegment]:
        known = set(self.reader.manifest.pairs())
        key, ids_key = association_key(gen), refreshed_ids_key(gen)
        done: dict[tuple[str, str], _Done] = {}
        segments: list[AssociationSegment] = []
        with SegmentFile(ASSOCIATION_SCHEMA, tmp) as out, SegmentFile(REFRESHED_SCHEMA, tmp) as refreshed:

            def read(
                pair: tuple[str, str], ids: np.ndarray, full: bool, keep: _Keeping | None = None
            ) -> None:
                rows, _ = sync_associations(
                    self.client, keep or out, pair[0], pair[1], array("q", ids.tolist()), self.watermark
                )
                entry = done.setdefault(pair, _Done())
                entry.rows, entry.full = entry.rows + rows, full
                entry.ids.append(ids)
                self.stats[f"{pair[0]}/{pair[1]}"] = {"from_ids_read": len(ids), "rows": rows}

            for lead, other in lead_pairs(pairs, lambda t: len(self.live[t])):
                if self.only_new and not any(len(self.new.get(t, [])) for t in (*lead, *(other or ()))):
                    continue
                if lead not in known or (other is not None and other not in known):
                    read(lead, self.live[lead[0]], True)  # new to the index: both ways whole
                    if other is not None:
                        read(other, self.live[other[0]], True)
                    continue
                served = self.journal is not None and self.journal.serves(lead)
                ids, whole = self._due(lead, served)
                keep = _Keeping(out)
                read(lead, ids, whole, keep)
                if other is not None:
                    indexed = self.reader.association_keys(*lead, None if whole else ids)
                    ends = far_ends_changed(keep.keys, indexed)
                    ends = np.union1d(ends, self._held_from_the_other_side(lead, other, keep.keys))
                    ends = np.intersect1d(ends, self.live[other[0]])
                    read(other, np.union1d(self._new(other[0], served), ends).astype(np.int64), False)
                if served:
                    for pair in (lead, other) if other is not None else (lead,):
                        self._journaled(pair, done[pair], out, read)
            for pair, entry in done.items():
                scope, ids_at = ("full", "") if entry.full else ("from_ids", ids_key)
                if not entry.full:
                    ids = np.unique(np.concatenate(entry.ids)) if entry.ids else np.zeros(0, np.int64)
                    n = len(ids)
                    refreshed.append(
                        pa.table(
                            {"from_type": [pair[0]] * n, "to_type": [pair[1]] * n, "from_id": ids},
                            schema=REFRESHED_SCHEMA,
                        )
                    )
                segments.append(AssociationSegment(pair[0], pair[1], key, entry.rows, scope, ids_at))
            out.upload(destination, key)
            refreshed.upload(destination, ids_key)
        return segments

    def _journaled(
        self,
        pair: tuple[str, str],
        entry: _Done,
        out: SegmentFile,
        read: Callable[[tuple[str, str], np.ndarray, bool], None],
    ) -> None:
        """The pair's records with edge events that were not read today: their rows as the index
        holds them, changed as the journal says (those given an unknown label are read instead)."""
        assert self.journal is not None
        if entry.full:
            return
        changes = self.journal.feed.edges(*pair, self.journal.since[pair[0]])
        read_today = np.concatenate(entry.ids) if entry.ids else np.zeros(0, np.int64)
        touched = np.setdiff1d(np.intersect1d(changes.touched, self.live[pair[0]]), read_today)
        if not len(touched):
            return
        held = self.reader.association_rows(*pair, touched)
        wanted = pa.array(touched, pa.int64())
        scoped = EdgeChanges(
            touched,
            changes.reset.filter(pc.is_in(changes.reset["from_id"], wanted)),
            changes.added.filter(pc.is_in(changes.added["from_id"], wanted)),
        )
        rows, unread = journal_rows(pair, held, scoped, self.journal.labels.get(pair, {}))
        if rows.num_rows:
            out.append(rows)
        entry.rows += rows.num_rows
        entry.ids.append(np.setdiff1d(touched, unread))
        self.stats.setdefault(f"{pair[0]}/{pair[1]}", {})["from_journal"] = len(touched) - len(unread)
        if len(unread):
            read(pair, unread, False)

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

    def _new(self, type_id: str, served: bool) -> np.ndarray:
        """Today's new ids of a type whose edges are read: with the journal serving, not those it saw
        created (their edges are its events)."""
        new = self.new.get(type_id, np.zeros(0, np.int64))
        if served and self.journal is not None:
            new = np.setdiff1d(new, self.journal.created(type_id))
        return new.astype(np.int64)

    def _due(self, lead: tuple[str, str], served: bool) -> tuple[np.ndarray, bool]:
        """The lead ids to read today, and whether they are all of them: the new ones plus today's
        slice, or every live id when that takes no more calls (small types). With the journal serving
        the pair, the slice is its safety net's (`spread_slice`)."""
        live = self.live[lead[0]]
        if self.only_new:
            return self._new(lead[0], False), False
        if served and self.journal is not None:
            salt = zlib.crc32(f"{lead[0]}|{lead[1]}".encode())
            due = np.union1d(self._new(lead[0], True), spread_slice(live, self.journal.every, self.day, salt))
            return due.astype(np.int64), len(due) == len(live) and len(live) > 0
        due = rotating_slice(live, self.every, self.day)
        due = np.union1d(self.new.get(lead[0], due[:0]), due).astype(np.int64)
        if math.ceil(len(live) / ASSOCIATION_BATCH) <= math.ceil(len(due) / ASSOCIATION_BATCH):
            return live, True
        return due, False
