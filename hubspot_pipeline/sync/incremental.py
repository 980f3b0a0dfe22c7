"""The daily incremental sync: only what changed since the index watermark, into a `delta` generation.

Per object type (hubspot-api.md §3.3, §3.4; the searches are in `change_search.py`):
1. changed ids: a search on the modified date (`lastmodifieddate` for contacts, `hs_lastmodifieddate`
   otherwise) from the watermark minus a look-back overlap (search lags writes), windowed on
   (timestamp, id) so the 10,000-result cap and 20,000 records at one timestamp neither lose nor loop;
   ids are deduplicated.
2. the window before (the previous run's search), now settled, is checked again: an earlier search
   may have missed something in it (writes it saw late, reads that failed). When the index holds at
   most `WINDOW_IN_SEARCH` records last modified in it, step 1 simply searches from that window's
   start, and each record found in it that the index lacks or holds older is read (one search call
   serves both: `window: "searched"`). Otherwise the window is counted (one search call): if
   HubSpot's count differs from the index's, the window is searched again and what the index lacks
   is read (`window: "counted"`). Either way `reconciled: "window"` says something was recovered.
3. the changed ids through batch read with every property and its history (100 per call); history
   rows already in the index are dropped, so the index holds each entry once.
4. archived ids through the archived list (ids only: the API has no "archived since" filter); ids not
   yet tombstones are batch read (`archived=true`) into the `archived` part. A merge archives the
   merged-away record (it shows up here) and bumps the survivor (it shows up in step 1).
5. schema drift: a property not fetched by the last generation (new, or newly selected) is read for
   the records that have a value (`HAS_PROPERTY`); a type the last generation did not sync is read
   whole (a search window from 0).
6. the rotating scan: every day a rotating id range of each type (1/K of its live records, K =
   `calculated_refresh_days`) is scanned through search (200 per call) for its calculated properties
   (they change without bumping the modified date) and each record's `updatedAt`. Records whose
   calculated values differ from the index's are re-read with their history; records the index
   lacks, or holds in a version older than their `updatedAt` (a change an earlier search missed),
   are read whole. So every record is compared with HubSpot once every K days, at N / 200 / K calls
   a day, where a full reconcile (step 8) pages N / 100.
   Search shows values, not history: a value set again to what it was, or changed and changed back
   between two scans, leaves history entries the index gets only when the record is next read with
   history (any modified-date change). K = 1 re-reads every record with calculated properties with its
   history instead (exact).
   The K ranges cover every id and are cut from the records live at the start of each cycle of K days
   (day ordinal // K), so each record is scanned once per cycle: a silent change waits K days at most
   (up to 2K - 1 for a record near a range boundary that moved between cycles). A type whose whole
   scan takes no more calls than its range is scanned whole.
7. associations change without bumping it either (`association_refresh.py`).
8. the full reconcile (on days divisible by `reconcile_every_days`): the live list (ids and
   `updatedAt`, 100 per call) against the index; ids missing or older in the index are read.

The manifest is replaced only after every segment is uploaded: a failed run leaves the index as it
was, and the next run starts again from the last good watermark.
"""

from __future__ import annotations

import functools
import logging
import math
import tempfile
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hubspot_pipeline import settings
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync import failed_records
from hubspot_pipeline.sync.association_refresh import AssociationRefresh, JournalEdges
from hubspot_pipeline.sync.change_search import (
    MAX_ID,
    SEARCH_PAGE,
    archived_listing,
    behind_index,
    id_range_scan,
    reconcile_ids,
    search_total,
    windowed_ids,
)
from hubspot_pipeline.sync.compare import differing
from hubspot_pipeline.sync.failed_records import FailureLog
from hubspot_pipeline.sync.full_sync import (
    BATCH_READ,
    ID_PROPERTY,
    SyncOutcome,
    SyncPlan,
    Watermark,
    _history_table,
    _last_properties,
    _records_table,
)
from hubspot_pipeline.sync.index import (
    HISTORY_SCHEMA,
    RECORD_SCHEMA,
    Generation,
    IndexManifest,
    RecordSegment,
    generation_id,
    generation_prefix,
    save_manifest,
    to_ms,
)
from hubspot_pipeline.sync.index_reader import DISTINCT_HISTORY_COLUMNS, IndexReader
from hubspot_pipeline.sync.index_writer import SegmentFile, upload_segment
from hubspot_pipeline.sync.journal import (
    LIST_EVENTS_FILE,
    LIST_OVERLAP_MS,
    LISTS,
    Journal,
    JournalChanges,
    JournalPosition,
    associations_key,
)
from hubspot_pipeline.sync.object_types import modified_property
from hubspot_pipeline.sync.timestamps import iso_ms, parse_ts

_DEFAULTS = settings.read_all({})


@dataclass(frozen=True)
class IncrementalSettings:
    """How far back each daily search reaches, and how stale the silent changes may get.

    The defaults are the deployment's (README, "Incremental sync"); K = 1 re-reads every silent
    change daily (exact, dearer).
    """

    # defaults: those of `hubspot_pipeline.settings`, i.e. of an environment that sets none
    lookback: timedelta = timedelta(minutes=_DEFAULTS["HUBSPOT_SYNC_LOOKBACK_MINUTES"])
    # every association re-read at least every K days
    association_refresh_days: int = int(_DEFAULTS["HUBSPOT_ASSOCIATION_REFRESH_DAYS"])
    # the same where the webhooks journal gives a pair's association changes (a safety net)
    journal_association_refresh_days: int = int(_DEFAULTS["HUBSPOT_JOURNAL_ASSOCIATION_REFRESH_DAYS"])
    # every calculated property re-read at least every K days (a scan of every record is twice the
    # calls of an association rescan: refreshed half as often)
    calculated_refresh_days: int = int(_DEFAULTS["HUBSPOT_CALCULATED_REFRESH_DAYS"])
    # the full reconcile runs on days divisible by it
    reconcile_every_days: int = int(_DEFAULTS["HUBSPOT_RECONCILE_EVERY_DAYS"])
    # the index is compacted once this many generations have piled up since its last compaction
    compact_after: int = int(_DEFAULTS["HUBSPOT_INDEX_COMPACT_AFTER"])
    # a failed record is retried by each daily run until it has failed this many attempts in a row
    failed_retry_days: int = int(_DEFAULTS["HUBSPOT_FAILED_RETRY_DAYS"])

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> IncrementalSettings:
        """The settings as the environment gives them (`hubspot_pipeline.settings` checks each)."""
        return cls.from_values(settings.read_all(environ))

    @classmethod
    def from_values(cls, values: Mapping[str, int | float]) -> IncrementalSettings:
        """The settings from values checked by `hubspot_pipeline.settings`, keyed by variable name."""
        return cls(
            lookback=timedelta(minutes=values["HUBSPOT_SYNC_LOOKBACK_MINUTES"]),
            association_refresh_days=int(values["HUBSPOT_ASSOCIATION_REFRESH_DAYS"]),
            journal_association_refresh_days=int(
                values.get(
                    "HUBSPOT_JOURNAL_ASSOCIATION_REFRESH_DAYS",
                    _DEFAULTS["HUBSPOT_JOURNAL_ASSOCIATION_REFRESH_DAYS"],
                )
            ),
            calculated_refresh_days=int(values["HUBSPOT_CALCULATED_REFRESH_DAYS"]),
            reconcile_every_days=int(values["HUBSPOT_RECONCILE_EVERY_DAYS"]),
            compact_after=int(values["HUBSPOT_INDEX_COMPACT_AFTER"]),
            failed_retry_days=int(
                values.get("HUBSPOT_FAILED_RETRY_DAYS", _DEFAULTS["HUBSPOT_FAILED_RETRY_DAYS"])
            ),
        )


# Step 2's choice: a settled window of at most this many records (one search page) is searched again
# with the day's changes, which costs no more calls than counting it and names each record it missed.
WINDOW_IN_SEARCH = SEARCH_PAGE

# Every silent change re-read daily: an export equal to a full sync's, at a higher daily cost.
EXACT = IncrementalSettings(
    association_refresh_days=1, journal_association_refresh_days=1, calculated_refresh_days=1
)


# -- reading records -------------------------------------------------------------------------------


def _history_key(table: pa.Table) -> pa.Array:
    """One string per history row over the distinct-entry columns (nulls made comparable)."""
    columns = [pc.fill_null(pc.cast(table.column(c), pa.string()), "\x00") for c in DISTINCT_HISTORY_COLUMNS]
    return pc.binary_join_element_wise(*columns, "\x1f")


@dataclass
class _Read:
    segment: RecordSegment
    ids: np.ndarray  # ids read
    updated: np.ndarray  # their updatedAt, epoch ms


def read_part(
    client: HubSpotClient,
    destination: Destination,
    reader: IndexReader,
    gen: str,
    type_id: str,
    part: str,
    ids: np.ndarray,
    properties: list[str],
    tmp: str,
    watermark: Watermark,
    failures: FailureLog,
) -> _Read:
    """Batch read `ids` (sorted) with history into one segment, leaving out history already indexed;
    the inputs and the records that failed go to `failures` (a calculated re-read as a live one)."""
    archived = part == "archived"
    known = _history_key(reader.history_of(type_id, ids))
    body_extra = {"properties": properties, "propertiesWithHistory": properties}
    read, updated = array("q"), array("q")
    with SegmentFile(RECORD_SCHEMA, tmp) as records, SegmentFile(HISTORY_SCHEMA, tmp) as history:
        for start in range(0, len(ids), BATCH_READ):
            chunk = ids[start : start + BATCH_READ]
            body = client.post(
                f"/crm/v3/objects/{type_id}/batch/read",
                {**body_extra, "inputs": [{"id": str(i)} for i in chunk]},
                {"archived": str(archived).lower()},
            )
            watermark.observe(body)
            failures.record(type_id, "archived" if archived else "live", chunk.tolist(), body)
            results = sorted(body.get("results") or [], key=lambda r: int(r["id"]))
            if part != "calculated":
                records.append(_records_table(results))
            rows = _history_table(results)
            if rows.num_rows and len(known):
                rows = rows.filter(pc.invert(pc.is_in(_history_key(rows), known)))
            history.append(rows)
            read.extend(int(r["id"]) for r in results)
            updated.extend(to_ms(r.get("updatedAt")) or 0 for r in results)
        segment = upload_segment(destination, gen, type_id, part, records, history)
    return _Read(segment, np.array(read, dtype=np.int64), np.array(updated, dtype=np.int64))


def _slice_range(live: np.ndarray, every: int, day: int) -> tuple[int, int]:
    """Today's id range of `every` contiguous ranges that together cover every id, each holding about
    as many live records: each live id is scanned once every `every` days (empty: lo > hi)."""
    k, n = day % every, len(live)
    if n == 0:
        return (0, MAX_ID) if k == 0 else (1, 0)
    bounds = [0, *(int(live[i * n // every]) for i in range(1, every)), MAX_ID + 1]
    return bounds[k], bounds[k + 1] - 1


def _scan(
    client: HubSpotClient,
    reader: IndexReader,
    type_id: str,
    names: list[str],
    lo: int,
    hi: int,
    before: _Before,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids scanned, ids whose calculated values `names` differ from the index's, ids whose
    `updatedAt` is past the index's) of the live records in [lo, hi]: what the modified-date search
    cannot see (calculated values) or missed (a change the index lacks, a record it never got).
    Search returns no history: only the records that differ are re-read for it."""
    scanned: list[int] = []
    stamps: list[int] = []
    found: dict[str, list] = {"object_id": [], "name": [], "value": []}
    for page in id_range_scan(client, type_id, names or [ID_PROPERTY], lo, hi):
        for record in page:
            record_id, values = int(record["id"]), record.get("properties") or {}
            scanned.append(record_id)
            stamps.append(to_ms(record.get("updatedAt")) or 0)
            for name in names:
                if values.get(name) not in (None, ""):
                    found["object_id"].append(record_id)
                    found["name"].append(name)
                    found["value"].append(values[name])
    ids = np.array(scanned, dtype=np.int64)
    at = np.clip(np.searchsorted(before.live, ids), 0, max(len(before.live) - 1, 0))
    held = (before.live[at] == ids) if len(before.live) else np.zeros(len(ids), dtype=bool)
    older = held & (before.updated[at] < np.array(stamps, dtype=np.int64)) if len(before.live) else held
    if not names:
        return ids, ids[:0], ids[older]
    indexed = reader.latest_values(type_id, ids, names)
    indexed = indexed.filter(pc.fill_null(pc.not_equal(indexed.column("value"), ""), False))
    read = pa.table(found, schema=indexed.schema)
    return ids, differing(read, indexed, "object_id"), ids[older]


@dataclass(frozen=True)
class _Before:
    """What the index held of a type before this run."""

    live: np.ndarray  # sorted live ids
    updated: np.ndarray  # their updatedAt, epoch ms

    @classmethod
    def of(cls, reader: IndexReader, type_id: str) -> _Before:
        live = reader.live_ids(type_id)
        ids, stamps = reader.latest_updated(type_id)
        at = np.clip(np.searchsorted(ids, live), 0, max(len(ids) - 1, 0))
        return cls(live, stamps[at] if len(ids) else np.zeros(len(live), np.int64))


def _window_misses(
    client: HubSpotClient,
    type_id: str,
    window: tuple[int, int],
    before: _Before,
    searched: np.ndarray,
    gone: np.ndarray,
    tolerance: int,
) -> np.ndarray | None:
    """Ids last modified in the previous, now settled, search window that the index lacks or holds
    older; None when HubSpot's count of that window agrees with the index (one search call).

    Records searched today left the window (modified again) and are excluded from both counts; so
    are today's archives, except that search may still count the ones archived within the look-back
    (`tolerance`)."""
    prop = modified_property(type_id)
    lo, hi = window
    bounds = [
        {"propertyName": prop, "operator": "GTE", "value": str(lo)},
        {"propertyName": prop, "operator": "LT", "value": str(hi)},
    ]
    counted = search_total(client, type_id, bounds)
    settled = ~np.isin(before.live, searched) & ~np.isin(before.live, gone)
    in_window = (before.updated >= lo) & (before.updated < hi)
    expected = int((settled & in_window).sum())
    if expected <= counted <= expected + tolerance:
        return None
    ids = np.array(sorted(windowed_ids(client, type_id, lo, bounds[1:])), dtype=np.int64)
    known = np.isin(ids, before.live[in_window])
    return ids[~known]


def _search_window_again(lo: int, hi: int, before: _Before) -> bool:
    """Whether step 1 searches from the settled window's start `lo` (step 2): the index holds at
    most `WINDOW_IN_SEARCH` records last modified in [lo, hi). Never when the window is empty
    because the look-back was raised past the time since the last run (lo > hi): starting at `lo`
    would then skip [hi, lo)."""
    if lo > hi:
        return False
    return int(((before.updated >= lo) & (before.updated < hi)).sum()) <= WINDOW_IN_SEARCH


@dataclass(frozen=True)
class _Tombstones:
    ids: np.ndarray  # every new tombstone, read or taken from the listing, sorted
    updated: np.ndarray  # their updatedAt, epoch ms
    listed: pa.Table  # RECORD_SCHEMA rows of those taken from the listing as they are


def _tombstones(
    listed: list[dict], live: np.ndarray, day_end_ms: int, read: Callable[[np.ndarray], _Read]
) -> _Tombstones:
    """The new tombstones of a type. Only those that may have existed at a day's end the index has
    not seen them at are batch read (their values and history): archived after the first day's end
    past the index's watermark, or never held live by the index. The others come from the listing as
    they are (id and dates): the index holds their values as of its watermark, and no day's export
    shows a record after it was archived."""
    table = _records_table(listed)
    table = table.set_column(
        table.schema.get_field_index("properties"),
        RECORD_SCHEMA.field("properties"),
        pa.array([[] for _ in range(table.num_rows)], RECORD_SCHEMA.field("properties").type),
    )
    ids = table.column("object_id").to_numpy()
    archived_at = table.column("archived_at").cast(pa.int64()).fill_null(0).to_numpy()
    updated = table.column("updated_at").cast(pa.int64()).fill_null(0).to_numpy()
    needed = (archived_at >= day_end_ms) | ~np.isin(ids, live)
    done = read(ids[needed])
    all_ids = np.concatenate([done.ids, ids[~needed]])
    order = np.argsort(all_ids, kind="stable")
    stamps = np.concatenate([done.updated, updated[~needed]])
    return _Tombstones(all_ids[order], stamps[order], table.filter(pa.array(~needed)))


def _journal_position(manifest: IndexManifest) -> JournalPosition:
    """The journal position the newest generation that read the journal kept."""
    for generation in reversed(manifest.generations):
        if "journal" in generation.stats:
            return JournalPosition.from_stats(generation.stats["journal"])
    return JournalPosition()


def _journal_stats(destination: Destination, gen: str, feed: JournalChanges, keep_ms: int) -> dict:
    """The position to keep (the newest entry published by `keep_ms`: where the next run's journal
    must start, a look-back (at least `LIST_OVERLAP_MS`) before this run, or this run's search start when a type searched), and
    the run's list-membership events (a file of the generation) with the span they are complete
    for: the lists' daily read applies them (`sync.lists`)."""
    key = generation_prefix(gen) + LIST_EVENTS_FILE
    sink = pa.BufferOutputStream()
    pq.write_table(feed.list_events, sink, compression="zstd")
    destination.put_bytes(key, sink.getvalue().to_pybytes())
    lists = {"key": key, "from_ms": feed.complete_from(LISTS)}
    return {**feed.keep(keep_ms).stats(), "entries": feed.entries, "lists": lists}


def _journal_listing(
    feed: JournalChanges, reader: IndexReader, type_id: str, since: int, due: np.ndarray, day_end_ms: int
) -> list[dict]:
    """The journal's deletes and merges of a type since `since`, as the archived listing gives them:
    the archive's time as `archivedAt` and `updatedAt` (a delete is a write), `createdAt` the index's.
    The archived records whose read failed and is `due` again are listed too, archived at
    `day_end_ms`: that makes `_tombstones` read them (the listing showed them every day; the journal
    names a delete once)."""
    gone = feed.archived(type_id, since)
    for record_id in np.setdiff1d(due, np.fromiter(gone, np.int64, len(gone))).tolist():
        gone[int(record_id)] = day_end_ms
    ids = np.array(sorted(gone), dtype=np.int64)
    created = reader.created_at(type_id, ids)
    return [
        {
            "id": str(i),
            "createdAt": iso_ms(int(c)) if c else None,
            "updatedAt": iso_ms(gone[i]),
            "archived": True,
            "archivedAt": iso_ms(gone[i]),
        }
        for i, c in zip(ids.tolist(), created.tolist(), strict=True)
    ]


def _upload_listed(
    destination: Destination, gen: str, type_id: str, rows: pa.Table, tmp: str
) -> RecordSegment:
    with SegmentFile(RECORD_SCHEMA, tmp) as records, SegmentFile(HISTORY_SCHEMA, tmp) as history:
        records.append(rows)
        return upload_segment(destination, gen, type_id, "archived", records, history, name="archived-listed")


# -- the run ---------------------------------------------------------------------------------------


def incremental_sync(
    client: HubSpotClient,
    destination: Destination,
    plan: SyncPlan,
    manifest: IndexManifest,
    run_id: str,
    as_of: datetime,
    log: logging.Logger,
    settings: IncrementalSettings | None = None,
    journal: Journal | None = None,
) -> SyncOutcome:
    """Fetch what changed since the manifest's watermark into a new `delta` generation; list it last.
    With `journal`, a type's changes and deletes come from HubSpot's webhooks journal where it vouches
    for the whole window (`sync.journal`), else from the searches and the archived listing."""
    settings = settings or IncrementalSettings()
    previous = manifest.watermark
    assert previous is not None, "an incremental sync needs a first full sync"
    gen = generation_id(manifest.next_position(), run_id)
    ingested_at = iso_ms(datetime.now(UTC)) or ""
    calls_before = client.total_calls()
    reader = IndexReader(destination, manifest)
    day = as_of.toordinal()
    watermark = Watermark()
    position = _journal_position(manifest)
    if journal is not None:  # before the watermark: what the subscriptions select starts before it
        position = journal.subscribe([t.type_id for t in plan.types], position)
    # server time before any read: changes after it may not be seen by this run
    watermark.observe(client.post(f"/crm/v3/objects/{plan.types[0].type_id}/batch/read", {"inputs": []}))
    now_ms = to_ms(watermark.value) or to_ms(datetime.now(UTC)) or 0
    since = to_ms(previous - settings.lookback) or 0
    lookback_ms = int(settings.lookback / timedelta(milliseconds=1))
    feed = journal.read(position, now_ms) if journal is not None else None
    searched_any = False  # a type searched: the next run needs the journal from this run's start
    edges_from: dict[str, int] = {}  # types whose edges' changes the journal gives: from when
    # the first day's end the index has not synced past: a record archived after it existed then
    next_day_end = to_ms(datetime.combine(previous.date() + timedelta(days=1), time(0), tzinfo=UTC)) or 0
    last = manifest.generations[-1]
    window = (int(last.stats["search_since"]), since) if "search_since" in last.stats else None
    last_types = last.stats.get("types") or {}
    cadence = day % settings.reconcile_every_days == 0
    last_props = _last_properties(manifest)
    known_types = set(last_props) or set(manifest.type_ids())
    segments: list[RecordSegment] = []
    live_now: dict[str, np.ndarray] = {}
    new: dict[str, np.ndarray] = {}
    stats: dict[str, dict[str, object]] = {}
    failed_before = failed_records.of_generation(destination, last)
    failures = FailureLog()
    with tempfile.TemporaryDirectory(prefix="hubspot-delta-") as tmp:

        def read(tid: str, part: str, ids: np.ndarray, props: list[str]) -> _Read:
            done = read_part(
                client, destination, reader, gen, tid, part, ids, props, tmp, watermark, failures
            )
            segments.append(done.segment)
            return done

        for info in plan.types:
            tid, props = info.type_id, plan.properties[info.type_id]
            known = tid in known_types
            before = _Before.of(reader, tid)
            lo, hi = window or (0, 0)
            # after a run that searched, the journal must also hold that run's window (step 2)
            searched_last = (last_types.get(tid) or {}).get("source", "search") == "search"
            start = lo if window is not None and searched_last else since
            held = feed.complete_from(tid) if feed is not None else None
            journaled = known and held is not None and held <= start
            held_edges = feed.complete_from(associations_key(tid)) if feed is not None else None
            if known and held_edges is not None and held_edges <= start:
                edges_from[tid] = held_edges
            searched_any |= not journaled
            check = known and not cadence and window is not None and not journaled
            merged = check and _search_window_again(lo, hi, before)
            # every event the journal vouches for (not only since `start`: an entry is published
            # after its events, and one published after the last run may hold events before `start`)
            if feed is not None and held is not None and journaled:
                changes = feed.changed(tid, held)
            else:
                changes = windowed_ids(client, tid, lo if merged else since if known else 0)
            ids = np.fromiter(changes.keys(), np.int64, len(changes))
            stamps = np.fromiter(changes.values(), np.int64, len(changes))
            order = np.argsort(ids)
            ids, stamps = ids[order], stamps[order]
            settled = (stamps >= 0) & (stamps < hi) if merged else np.zeros(len(ids), dtype=bool)
            searched = ids[~settled]
            # tombstones now (a record restored from the recycle bin is live again, and may go again)
            tombstones = reader.tombstones(tid, before.live)
            retry = settings.failed_retry_days
            # records that failed `retry` reads in a row: read again only when HubSpot shows a change
            gave_up = {p: failed_records.gave_up(failed_before, tid, p, retry) for p in ("live", "archived")}
            if feed is not None and held is not None and journaled:
                due = failed_records.due(failed_before, tid, "archived", retry)
                listed = _journal_listing(feed, reader, tid, held, due, next_day_end)
            else:
                listed = archived_listing(client, tid)
            seen = np.isin([int(r["id"]) for r in listed], np.union1d(tombstones, gave_up["archived"]))
            listed = [r for r, old in zip(listed, seen, strict=True) if not old]
            read_archived = functools.partial(read, tid, "archived", props=props)
            dead = _tombstones(listed, before.live, next_day_end, read_archived)
            if dead.listed.num_rows:
                segments.append(_upload_listed(destination, gen, tid, dead.listed, tmp))
            gone = dead.ids
            # the records whose last reads failed, until they have failed `failed_retry_days` times
            extra: list[np.ndarray] = [failed_records.due(failed_before, tid, "live", retry)]
            reconciled = ""
            if known and cadence:
                extra.append(
                    np.array(sorted(reconcile_ids(client, tid, before.live, before.updated)), dtype=np.int64)
                )
                reconciled = "cadence"
            elif merged:
                found = ids[settled]
                missed = found[behind_index(before.live, before.updated, found, stamps[settled])]
                if len(missed):
                    extra.append(missed)
                    reconciled = "window"
            elif check:
                recent = int((dead.updated >= now_ms - settings.lookback / timedelta(milliseconds=1)).sum())
                missed = _window_misses(client, tid, (lo, hi), before, searched, gone, recent)
                if missed is not None:
                    extra.append(missed)
                    reconciled = "window"
            for name in sorted(set(props) - set(last_props.get(tid, props))) if known else []:
                found = windowed_ids(client, tid, 0, [{"propertyName": name, "operator": "HAS_PROPERTY"}])
                extra.append(np.array(sorted(found), dtype=np.int64))
            calculated = plan.calculated.get(tid) or []
            drift = scanned = searched[:0]
            every = settings.calculated_refresh_days
            if known and calculated and every <= 1:  # exact: every record re-read with its history
                drift = before.live
            elif known:
                # a rotating id range a day, fixed for the cycle of K days: each record is scanned once
                # per cycle for its calculated values and its modified date
                cycle_start = datetime.fromordinal(day - day % every).replace(tzinfo=UTC)
                lo, hi = _slice_range(reader.as_of_ids(tid, cycle_start), every, day)
                share = int(((before.live >= lo) & (before.live <= hi)).sum())
                if math.ceil(len(before.live) / SEARCH_PAGE) <= math.ceil(share / SEARCH_PAGE):
                    lo, hi = 0, MAX_ID  # the whole type takes no more calls (small types)
                scanned, drift, older = _scan(client, reader, tid, calculated, lo, hi, before)
                extra.append(np.setdiff1d(scanned, before.live))  # live in HubSpot, missing here
                extra.append(older)  # changed in HubSpot after the index's version, missed since
            others = np.setdiff1d(np.concatenate(extra), gave_up["live"])
            wanted = np.setdiff1d(np.union1d(searched, others), dead.ids)
            live = read(tid, "live", wanted, props)
            due = np.setdiff1d(np.setdiff1d(np.setdiff1d(drift, live.ids), dead.ids), gave_up["live"])
            calc = read(tid, "calculated", due, calculated) if len(due) else None
            new[tid] = np.setdiff1d(live.ids, before.live)
            live_now[tid] = np.setdiff1d(np.union1d(before.live, live.ids), dead.ids).astype(np.int64)
            stats[tid] = {
                "changed": len(live.ids),
                "new_tombstones": len(dead.ids),
                "calculated_scanned": len(scanned),
                "calculated_refreshed": len(calc.ids) if calc else 0,
                "reconciled": reconciled,
                "window": "searched" if merged else "counted" if check else "",
                "source": "journal" if journaled else "search",
            }
            log.info("delta %s: %d changed, %d new tombstones", info.name, len(live.ids), len(dead.ids))
        edges = (
            JournalEdges(feed, edges_from, plan.association_types, settings.journal_association_refresh_days)
            if feed is not None
            else None
        )
        refresh = AssociationRefresh(
            client, reader, watermark, settings.association_refresh_days, day, live_now, new, journal=edges
        )
        associations = refresh.run(destination, gen, plan.pairs, tmp)
    failed = failed_records.settle(
        destination,
        gen,
        failed_before,
        failures,
        parse_ts(ingested_at),
        [t.type_id for t in plan.types],
        stats,
        settings.failed_retry_days,
    )
    generation = Generation(
        id=gen,
        kind="delta",
        run_id=run_id,
        watermark=watermark.result(datetime.now(UTC)),
        ingested_at=ingested_at,
        segments=segments,
        associations=associations,
        stats={
            "api_calls": client.total_calls() - calls_before,
            "search_since": since,
            **(
                {
                    "journal": _journal_stats(
                        destination,
                        gen,
                        feed,
                        since if searched_any else now_ms - max(lookback_ms, LIST_OVERLAP_MS),
                    )
                }
                if feed is not None
                else {}
            ),
            "types": stats,
            "associations": refresh.stats,
            "properties": plan.properties,
            **failed,
        },
    )
    updated = manifest.with_generation(generation)
    save_manifest(destination, updated)
    log.info("index generation %s (delta): watermark %s", gen, generation.watermark)
    return SyncOutcome(True, updated, generation, client.total_calls() - calls_before, 0)
