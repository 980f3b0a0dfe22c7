"""Reading the CRM index as of a moment: the records, property values and history in effect then.

The state as of `as_of` (the end of a day, exclusive) is computed from the index alone:
- a record exists if it was created before `as_of` and was not archived before it; its row comes
  from the earliest generation whose watermark is at or past `as_of` (the fetch nearest after the
  day, so re-running a past day after later syncs gives the same rows and INGESTEDAT), else from
  the latest generation; within one generation the archived part wins (it was read later);
- a property's value is the latest history entry before `as_of` (ties at one millisecond: the entry
  HubSpot listed as newer); UPDATEDAT is the latest history timestamp before `as_of`, else createdAt;
- history rows before `as_of`, unioned over generations, each distinct entry once.

A compacted generation (`index.py`) holds several versions of a record, each with the interval of
as-of instants it serves: its rows outside the interval are dropped before the ranking, which then
treats the generation like any other (it has at most one row per record for any instant).

Work goes by batches of record ids: segment files are sorted by `object_id`, so `as_of_batches`
streams each file once, row group by row group, handing each id range its rows (`SortedRows`), and
memory is bounded by a batch (sized from the history rows per record), never by the account or by
the number of generations. Scans run on the calling thread: Arrow's default allocator keeps
per-thread arenas, and threaded scans raised the peak RSS of a `medium` OBJECT_PROPERTIES_HISTORY
export from 770 to 830+ MB for no gain in speed.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync.index import (
    ASSOCIATION_SCHEMA,
    COMPACTED,
    HISTORY_SCHEMA,
    TIMESTAMP,
    IndexManifest,
    RecordSegment,
    load_manifest,
    to_ms,
)

# History rows one batch may hold: about 10 MB of Arrow memory (and its sorted copies).
BATCH_HISTORY_ROWS = 100_000
MIN_BATCH_RECORDS, MAX_BATCH_RECORDS = 200, 20_000

# the latest state: every record version, whatever its date
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
_RECORD_COLUMNS = ["object_id", "created_at", "archived", "archived_at"]
# What makes a history entry distinct (the source label is not exported, so it does not count).
DISTINCT_HISTORY_COLUMNS = (
    "object_id",
    "name",
    "value",
    "timestamp",
    "source_type",
    "source_id",
    "updated_by_user_id",
)


@dataclass(frozen=True)
class AsOfBatch:
    """The state of a batch of records of one type as of a moment, every table sorted by object_id.

    `records`: object_id, created_at, updated_at (as of), ingested_at (TIMESTAMP: when the row was fetched).
    `values`: object_id, name, value, timestamp: the value in effect per (record, property), or None.
    `history`: every HISTORY_SCHEMA column, rows before the moment, or None.
    """

    records: pa.Table
    values: pa.Table | None
    history: pa.Table | None


class _LocalCopies:
    """Local files of a remote store's segments, one copy per process.

    A segment named by a manifest is never rewritten (a new sync writes a new generation), so a copy
    never goes stale and every reader of the process (one per exported table) shares it.
    """

    def __init__(self) -> None:
        self._dir: str | None = None
        self._paths: dict[str, str] = {}
        self._lock = threading.Lock()

    def path(self, destination: Destination, key: str) -> str:
        url = destination.url_for(key)
        if url.startswith("file://"):  # a local folder: read in place
            return unquote(urlparse(url).path)
        with self._lock:
            if url not in self._paths:
                if self._dir is None:
                    self._dir = tempfile.mkdtemp(prefix="hubspot-index-read-")
                    atexit.register(shutil.rmtree, self._dir, True)
                path = os.path.join(self._dir, f"{len(self._paths):06d}.parquet")
                with destination.open_read(key) as src, open(path, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1024 * 1024)
                self._paths[url] = path
            return self._paths[url]


_LOCAL_COPIES = _LocalCopies()


class ReadStats:
    """Segment files opened by the readers of this process (the benchmark's "files read")."""

    def __init__(self) -> None:
        self.files = 0

    def reset(self) -> None:
        self.files = 0


READ_STATS = ReadStats()


class IndexReader:
    """Reads the segments one index manifest lists (the store's current manifest by default)."""

    def __init__(self, destination: Destination, manifest: IndexManifest | None = None) -> None:
        self.destination = destination
        self.manifest = manifest if manifest is not None else load_manifest(destination)
        self._datasets: dict[str, ds.Dataset] = {}

    def _dataset(self, key: str) -> ds.Dataset:
        if key not in self._datasets:
            path = _LOCAL_COPIES.path(self.destination, key)
            self._datasets[key] = ds.dataset(Path(path), format="parquet")
            READ_STATS.files += 1
        return self._datasets[key]

    def sorted_rows(self, key: str, columns: list[str]) -> SortedRows:
        """A segment file's rows, streamed by ascending id ranges."""
        READ_STATS.files += 1
        return SortedRows(_LOCAL_COPIES.path(self.destination, key), columns)

    # -- records as of a moment ---------------------------------------------------------------------

    def as_of_ids(self, type_id: str, as_of: datetime) -> np.ndarray:
        """Sorted ids of the records of a type that exist as of `as_of`."""
        picked = self._pick_records(type_id, as_of)
        return picked.column("object_id").to_numpy()

    def live_ids(self, type_id: str) -> np.ndarray:
        """Sorted ids of the records of a type live in the index's latest state."""
        return self.as_of_ids(type_id, FAR_FUTURE)

    def ids_read_after(self, type_id: str, ingested_ms: int) -> np.ndarray | None:
        """Sorted ids of a type that the sync runs ingested after `ingested_ms` (epoch ms, this
        machine's clock, as `ingested_at`) read: changed, late, re-read or archived. None when no run
        came after it, or when a compaction merged one (its records are no longer told apart)."""
        found: list[np.ndarray] = []
        later = False
        for generation in self.manifest.generations:
            runs = generation.covers if generation.kind == COMPACTED else [generation]
            if all((to_ms(run.ingested_at) or 0) <= ingested_ms for run in runs):
                continue
            if generation.kind == COMPACTED:
                return None
            later = True
            found += [
                self._dataset(s.records).to_table(columns=["object_id"]).column("object_id").to_numpy()
                for s in generation.segments
                if s.type_id == type_id
            ]
        if not later:
            return None
        return np.unique(np.concatenate(found)) if found else np.array([], dtype=np.int64)

    def tombstones(self, type_id: str, live: np.ndarray | None = None) -> np.ndarray:
        """Sorted ids of the records of a type archived in the index's latest state (deleted or merged
        away, not restored since); `live`: the type's `live_ids`, when the caller has them."""
        live = self.live_ids(type_id) if live is None else live
        return np.setdiff1d(self.part_ids(type_id, "archived"), live)

    def as_of_batches(
        self, type_id: str, as_of: datetime, *, values: bool = False, history: bool = False
    ) -> Iterator[AsOfBatch]:
        """The records of a type that exist as of `as_of`, in batches by ascending id."""
        segments = self._segments(type_id)
        columns = ["object_id", "timestamp"]
        if values:
            columns += ["name", "value"]
        if history:
            columns = HISTORY_SCHEMA.names
        record_rows = [self.sorted_rows(s.records, _record_columns(s)) for _, s in segments]
        history_rows = [self.sorted_rows(s.history, columns) for _, s in segments]
        cutoff = pa.scalar(as_of, TIMESTAMP)
        for _, hi in self.id_ranges(type_id):
            found = [(p, s, rows.upto(hi)) for (p, s), rows in zip(segments, record_rows, strict=True)]
            records = self._pick(found, as_of)
            if records.num_rows == 0:
                for rows in history_rows:
                    rows.upto(hi)  # skipped: no record of the range exists as of the day
                continue
            ids = records.column("object_id").combine_chunks()
            tables = [rows.upto(hi) for rows in history_rows]
            rows = pa.concat_tables(tables)
            rows = rows.filter(
                pc.and_(pc.less(rows.column("timestamp"), cutoff), pc.is_in(rows.column("object_id"), ids))
            )
            yield AsOfBatch(
                records=_with_updated_at(records, rows),
                values=_latest_values(rows) if values else None,
                history=dedupe_history(rows) if history else None,
            )

    def _segments(self, type_id: str) -> list[tuple[int, RecordSegment]]:
        return self.manifest.segments(type_id)

    def id_ranges(self, type_id: str) -> Iterator[tuple[int, int]]:
        """Consecutive ranges of the type's ids, each about `BATCH_HISTORY_ROWS` history rows."""
        segments = self._segments(type_id)
        if not sum(s.record_count for _, s in segments):
            return
        ids = np.unique(
            np.concatenate(
                [
                    self._dataset(s.records).to_table(columns=["object_id"]).column("object_id").to_numpy()
                    for _, s in segments
                ]
            )
        )
        # per distinct record: a record is listed once per generation (or version) that read it
        per_record = max(1.0, sum(s.history_rows for _, s in segments) / len(ids))
        size = int(min(MAX_BATCH_RECORDS, max(MIN_BATCH_RECORDS, BATCH_HISTORY_ROWS / per_record)))
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            yield int(chunk[0]), int(chunk[-1])

    def _pick_records(self, type_id: str, as_of: datetime) -> pa.Table:
        """One row per record of the type that exists as of `as_of`, sorted by object_id."""
        found = [
            (p, s, self._dataset(s.records).to_table(columns=_record_columns(s), use_threads=False))
            for p, s in self._segments(type_id)
        ]
        return self._pick(found, as_of)

    def _pick(self, found: list[tuple[int, RecordSegment, pa.Table]], as_of: datetime) -> pa.Table:
        """One row per record that exists as of `as_of` (module docstring), sorted by object_id, from
        the record rows (`_record_columns`) of each (generation position, segment)."""
        first = self.manifest.first_at_or_past(as_of)
        if found:  # a resync of `all` up to the day: what came before it no longer serves
            floor = self.manifest.replaced_at(found[0][1].type_id, first)
            found = [f for f in found if f[0] >= floor]
        tables = []
        for position, segment, rows in found:
            if segment.part == COMPACTED:
                table = rows.filter(_serves(rows, as_of)).select([*_RECORD_COLUMNS, "ingested_at"])
            else:
                ingested = to_ms(self.manifest.generations[position].ingested_at)
                table = rows.append_column("ingested_at", constant_ms(ingested, rows.num_rows))
            rank = _rank(first, position, segment)
            tables.append(table.append_column("rank", pa.array(np.full(table.num_rows, rank, np.int64))))
        if not tables:
            return pa.table({"object_id": pa.array([], pa.int64())})
        table = pa.concat_tables(tables)
        # the best-ranked row of each id: sort by (id, rank) and keep the first of each id
        table = table.take(pc.sort_indices(table, [("object_id", "ascending"), ("rank", "ascending")]))
        ids = table.column("object_id").to_numpy()
        first = np.ones(len(ids), dtype=bool)
        first[1:] = ids[1:] != ids[:-1]
        table = table.filter(pa.array(first))
        cutoff = pa.scalar(as_of, TIMESTAMP)
        exists = pc.and_(
            pc.less(table.column("created_at"), cutoff),
            pc.or_(
                pc.invert(table.column("archived")),
                pc.fill_null(pc.greater_equal(table.column("archived_at"), cutoff), False),
            ),
        )
        return table.filter(exists).select(["object_id", "created_at", "ingested_at"])

    # -- associations ----------------------------------------------------------------------------

    def association_batches(self, from_type: str, to_type: str) -> Iterator[pa.RecordBatch]:
        """The pair's current associations (ASSOCIATION_SCHEMA columns, then `ingested_at`, TIMESTAMP:
        when the row was fetched): the rows of its last `full` segment and of later `from_ids` segments,
        each from-id's rows from the last segment that read it."""
        segments = self.manifest.association_segments(from_type, to_type)
        pair = (ds.field("from_type") == from_type) & (ds.field("to_type") == to_type)
        # from-ids re-read by a later segment, per segment (empty for the last)
        superseded = [np.array([], dtype=np.int64)] * len(segments)
        later = np.array([], dtype=np.int64)
        for i in range(len(segments) - 1, -1, -1):
            superseded[i] = later
            segment = segments[i][1]
            if segment.scope == "from_ids":
                ids = self._dataset(segment.refreshed_key).to_table(columns=["from_id"], filter=pair)
                later = np.union1d(later, ids.column("from_id").to_numpy())
            elif segment.scope != "full":
                raise ValueError(f"association segment scope {segment.scope!r} is not supported")
        for (generation, segment), drop in zip(segments, superseded, strict=True):
            data = self._dataset(segment.key)
            stamped = "ingested_at" in data.schema.names  # compacted: each row keeps its own
            for batch in data.to_batches(filter=pair, batch_size=64_000):
                if len(drop):
                    batch = batch.filter(pc.invert(pc.is_in(batch.column("from_id"), pa.array(drop))))
                if not stamped:
                    batch = batch.append_column(
                        "ingested_at", constant_ms(to_ms(generation.ingested_at), batch.num_rows)
                    )
                yield batch

    def association_keys(
        self, from_type: str, to_type: str, from_ids: np.ndarray | None, to_ids: np.ndarray | None = None
    ) -> pa.Table:
        """(from_id, to_id, type_id) of the pair's current associations, of `from_ids` and towards
        `to_ids` only if given (filtered batch by batch: memory follows what is kept)."""
        return self.association_rows(from_type, to_type, from_ids, to_ids, ["from_id", "to_id", "type_id"])

    def association_rows(
        self,
        from_type: str,
        to_type: str,
        from_ids: np.ndarray | None,
        to_ids: np.ndarray | None = None,
        columns: list[str] | None = None,
    ) -> pa.Table:
        """The pair's current associations (`columns`, default ASSOCIATION_SCHEMA's), of `from_ids`
        and towards `to_ids` only if given (filtered batch by batch: memory follows what is kept)."""
        columns = columns or ASSOCIATION_SCHEMA.names
        tables = []
        for batch in self.association_batches(from_type, to_type):
            rows = pa.Table.from_batches([batch]).select(columns)
            for column, ids in (("from_id", from_ids), ("to_id", to_ids)):
                if ids is not None:
                    rows = rows.filter(pc.is_in(rows.column(column), pa.array(ids, pa.int64())))
            tables.append(rows)
        if not tables:
            return ASSOCIATION_SCHEMA.empty_table().select(columns)
        return pa.concat_tables(tables)

    # -- what an incremental sync needs to know of the index ----------------------------------

    def part_ids(self, type_id: str, part: str) -> np.ndarray:
        """Sorted ids of a type listed in any `part` ("live" or "archived") segment (in a compacted
        one: the rows read live, or read archived)."""
        found = [
            self._dataset(s.records)
            .to_table(columns=["object_id"], filter=_part_filter(s, part))
            .column("object_id")
            .to_numpy()
            for _, s in self._segments(type_id)
            if s.part in (part, COMPACTED)
        ]
        return np.unique(np.concatenate(found)) if found else np.array([], dtype=np.int64)

    def latest_updated(self, type_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(sorted ids, latest `updated_at` in epoch ms) of every record of a type the index holds."""
        tables = [
            self._dataset(s.records).to_table(columns=["object_id", "updated_at"])
            for _, s in self._segments(type_id)
            if s.part != "calculated"
        ]
        if not tables:
            return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
        table = pa.concat_tables(tables).group_by("object_id").aggregate([("updated_at", "max")])
        table = table.sort_by("object_id")
        stamps = table.column("updated_at_max").cast(pa.int64()).fill_null(0)
        return table.column("object_id").to_numpy(), stamps.to_numpy()

    def journal_list_events(self, from_ms: int) -> pa.Table | None:
        """The list-membership events the last sync read from HubSpot's webhooks journal
        (`sync.journal.LIST_EVENT_SCHEMA`), when they hold every membership change from `from_ms` on
        (None otherwise: no journal, not subscribed that long, the file gone)."""
        generations = self.manifest.generations
        lists = ((generations[-1].stats.get("journal") or {}).get("lists") or {}) if generations else {}
        start = lists.get("from_ms")
        if start is None or start > from_ms:
            return None
        raw = self.destination.get_bytes(str(lists["key"]))
        return None if raw is None else pq.read_table(pa.BufferReader(raw))

    def created_at(self, type_id: str, ids: np.ndarray) -> np.ndarray:
        """`created_at` in epoch ms of the records `ids` (sorted), 0 where the index has none."""
        out = np.zeros(len(ids), dtype=np.int64)
        if len(ids) == 0:
            return out
        wanted = ds.field("object_id").isin(pa.array(ids, pa.int64()))
        tables = [
            self._dataset(s.records).to_table(columns=["object_id", "created_at"], filter=wanted)
            for _, s in self._segments(type_id)
            if s.part != "calculated"
        ]
        if not tables:
            return out
        table = pa.concat_tables(tables).group_by("object_id").aggregate([("created_at", "min")])
        held = table.column("object_id").to_numpy()
        stamps = table.column("created_at_min").cast(pa.int64()).fill_null(0).to_numpy()
        at = np.searchsorted(ids, held)
        out[at] = stamps
        return out

    def tombstones_before(self, type_id: str, as_of: datetime) -> int:
        """Records of a type created and archived (deleted or merged away) before `as_of`."""
        cutoff = pa.scalar(as_of, TIMESTAMP)
        gone = (ds.field("archived_at") < cutoff) & (ds.field("created_at") < cutoff) & ds.field("archived")
        found = [
            self._dataset(s.records)
            .to_table(columns=["object_id"], filter=gone)
            .column("object_id")
            .to_numpy()
            for _, s in self._segments(type_id)
            if s.part in ("archived", COMPACTED)
        ]
        return len(np.unique(np.concatenate(found))) if found else 0

    def latest_values(self, type_id: str, ids: np.ndarray, names: list[str]) -> pa.Table:
        """object_id, name, value of the newest stored history entry per (record of `ids`, property
        of `names`): the value the index holds now."""
        wanted = ds.field("object_id").isin(pa.array(ids, pa.int64())) & ds.field("name").isin(names)
        columns = ["object_id", "name", "value", "timestamp"]
        tables = [
            self._dataset(s.history).to_table(columns=columns, filter=wanted)
            for _, s in self._segments(type_id)
        ]
        history = pa.concat_tables(tables) if tables else HISTORY_SCHEMA.empty_table().select(columns)
        return _latest_values(history).select(["object_id", "name", "value"])

    def history_of(self, type_id: str, ids: np.ndarray) -> pa.Table:
        """Every stored history row (the distinct-entry columns) of the records `ids`."""
        columns = list(DISTINCT_HISTORY_COLUMNS)
        if len(ids) == 0:
            return HISTORY_SCHEMA.empty_table().select(columns)
        wanted = ds.field("object_id").isin(pa.array(ids, pa.int64()))
        tables = [
            self._dataset(s.history).to_table(columns=columns, filter=wanted)
            for _, s in self._segments(type_id)
        ]
        return pa.concat_tables(tables) if tables else HISTORY_SCHEMA.empty_table().select(columns)


def constant_ms(ms: int | None, n: int) -> pa.Array:
    """`n` copies of one epoch-ms instant as a TIMESTAMP array (null when `ms` is None)."""
    if ms is None:
        return pa.nulls(n, TIMESTAMP)
    return pa.array(np.full(n, ms, np.int64)).cast(TIMESTAMP)


def _part_filter(segment: RecordSegment, part: str) -> ds.Expression | None:
    """The rows of `part` in a segment: all of a plain one; by their `archived` flag in a compacted one
    (an archived read returns tombstones, a live read live records)."""
    if segment.part != COMPACTED:
        return None
    return ds.field("archived") if part == "archived" else ~ds.field("archived")


def _record_columns(segment: RecordSegment) -> list[str]:
    """The record columns `_pick` needs of a segment: a compacted one adds when and for when."""
    if segment.part == COMPACTED:
        return [*_RECORD_COLUMNS, "ingested_at", "valid_from", "valid_to"]
    return _RECORD_COLUMNS


def _serves(rows: pa.Table, as_of: datetime) -> pa.Array:
    """Mask of the compacted record versions whose interval (valid_from, valid_to] holds `as_of`."""
    at = pa.scalar(as_of, TIMESTAMP)
    after = pc.fill_null(pc.less(rows.column("valid_from"), at), True)
    until = pc.fill_null(pc.greater_equal(rows.column("valid_to"), at), True)
    return pc.and_(after, until)


class SortedRows:
    """A segment file sorted by `object_id`, handed out by ascending id ranges: `upto(hi)` returns the
    rows not yet handed out with ids up to `hi`. The file is read once, a row group at a time."""

    def __init__(self, path: str, columns: list[str]) -> None:
        source = pq.ParquetFile(path)
        self._schema = source.schema_arrow
        self._columns = [c for c in columns if c in self._schema.names]
        self._batches = source.iter_batches(batch_size=65_536, columns=self._columns, use_threads=False)
        self._rest: pa.Table | None = None

    def upto(self, hi: int) -> pa.Table:
        taken: list[pa.Table] = []
        while True:
            if self._rest is None:
                batch = next(self._batches, None)
                if batch is None:
                    break
                self._rest = pa.Table.from_batches([batch])
            ids = self._rest.column("object_id").to_numpy()
            n = int(np.searchsorted(ids, hi, side="right"))
            if n < self._rest.num_rows:
                taken.append(self._rest.slice(0, n))
                self._rest = self._rest.slice(n)
                break
            taken.append(self._rest)
            self._rest = None
        if not taken:
            return self._schema.empty_table().select(self._columns)
        return pa.concat_tables(taken)


def _rank(first: int, position: int, segment: RecordSegment) -> int:
    """Lower wins. With `first` the earliest generation at or past the day (else the last one): the
    generations up to `first` latest first, then later ones earliest first; within a generation the
    archived part (read after the live one). With only full generations this is `first` itself; a
    `delta` holds only the records that changed, so a record missing from `first` takes its row from
    the latest fetch before it, never from a fetch of a change made after the day."""
    big = 1 << 40
    primary = first - position if position <= first else big + position
    return primary * 2 + (0 if segment.part == "archived" else 1)


def _with_updated_at(records: pa.Table, history: pa.Table) -> pa.Table:
    """`updated_at` as of the moment: the latest history timestamp of each record, else its creation."""
    ids = records.column("object_id").to_numpy()
    created = records.column("created_at").cast(pa.int64()).to_numpy(zero_copy_only=False)
    updated = created.copy()
    if history.num_rows:
        hist_ids = history.column("object_id").to_numpy()
        stamps = history.column("timestamp").cast(pa.int64()).to_numpy(zero_copy_only=False)
        order = np.argsort(hist_ids, kind="stable")
        hist_ids, stamps = hist_ids[order], stamps[order]
        starts = np.flatnonzero(np.r_[True, hist_ids[1:] != hist_ids[:-1]])
        latest = np.maximum.reduceat(stamps, starts)
        where = np.searchsorted(ids, hist_ids[starts])
        updated[where] = latest
    return pa.table(
        {
            "object_id": records.column("object_id"),
            "created_at": records.column("created_at"),
            "updated_at": pa.array(updated, pa.int64()).cast(TIMESTAMP),
            "ingested_at": records.column("ingested_at"),
        }
    )


def _sorted_history(history: pa.Table) -> pa.Table:
    # stable: entries of one property at the same millisecond keep the order they were stored in
    return history.take(
        pc.sort_indices(
            history, [("object_id", "ascending"), ("name", "ascending"), ("timestamp", "ascending")]
        )
    )


def _group_ends(table: pa.Table) -> np.ndarray:
    """Mask of the last row of each (object_id, name) run in a sorted table."""
    n = table.num_rows
    ends = np.ones(n, dtype=bool)
    if n > 1:
        ids = table.column("object_id").to_numpy()
        names = pc.not_equal(table.column("name").slice(1), table.column("name").slice(0, n - 1))
        ends[:-1] = (ids[1:] != ids[:-1]) | names.to_numpy(zero_copy_only=False)
    return ends


def _latest_values(history: pa.Table) -> pa.Table:
    ordered = _sorted_history(history.select(["object_id", "name", "value", "timestamp"]))
    return ordered.filter(pa.array(_group_ends(ordered)))


def dedupe_history(history: pa.Table) -> pa.Table:
    """History sorted by (record, property, time), each distinct entry once: generations overlap, and
    HubSpot may list one entry twice. Of equal entries the last stored one stays, so entries at one
    millisecond keep the order that makes the newest (the current value) last."""
    ordered = _sorted_history(history)
    if ordered.num_rows < 2:
        return ordered
    lasts = (
        ordered.select(list(DISTINCT_HISTORY_COLUMNS))
        .append_column("_pos", pa.array(np.arange(ordered.num_rows, dtype=np.int64)))
        .group_by(list(DISTINCT_HISTORY_COLUMNS), use_threads=False)
        .aggregate([("_pos", "max")])
        .column("_pos_max")
        .to_numpy()
    )
    return ordered.take(pa.array(np.sort(lasts)))
