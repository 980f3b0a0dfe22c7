"""The first full sync: every record, its property history and its associations, into the index.

Per object type (hubspot-api.md §3, §6):
1. ids from `GET /crm/v3/objects/{type}` at 100 per page, asking only for `hs_object_id` (a long
   property list in the URL fails with 414), once for live records and once with `archived=true`;
2. the ids, 100 at a time (the batch maximum, history included), through
   `POST /crm/v3/objects/{type}/batch/read` with every live property definition in `properties` and
   `propertiesWithHistory`: current values and full history in one call per 100 records;
3. per ordered pair with association definitions, the live ids through
   `POST /crm/v4/associations/{from}/{to}/batch/read`, 1,000 inputs per call. A record with more
   than 500 associations comes back with a per-input `paging` cursor; its continuation rides in the
   next call beside fresh ids, so continuations cost inputs, not extra calls.

The fewest calls the API allows (`api_call_floor`), for live and archived record counts N_t and A_t
per type, and per pair the from-type's live count N_p and its continuation inputs
X_p = sum over records with k > 500 associations of (ceil(k / 500) - 1):

    sum_t [ max(1, ceil(N_t/100)) + max(1, ceil(A_t/100)) + ceil(N_t/100) + ceil(A_t/100) ]
    + sum_p ceil((N_p + X_p) / 1000)

Pages stream into segment files (`index_writer`), so memory is bounded by a batch plus 8 bytes per
live id (kept to ask for associations). Records are uploaded in chunks and associations in files of
whole pairs, each checkpointed (`full_sync_progress`): a run killed midway is resumed by the next,
which re-reads only the chunk or association file that was in progress. The new generation is
listed in the index manifest only after every segment is uploaded. An index that is behind the day gets another full sync, appended
as a new generation (an incremental sync, fetching only what changed, is the next step).
"""

from __future__ import annotations

import io
import logging
import math
import tempfile
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.hubspot.paging import cursor_pages
from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync import failed_records
from hubspot_pipeline.sync.definitions import known_types, present_types
from hubspot_pipeline.sync.failed_records import FailureLog
from hubspot_pipeline.sync.full_sync_progress import (
    ASSOCIATION_FILE_ROWS,
    CHECKPOINT_RECORDS,
    PROGRESS_KEY,
    RESYNC_PROGRESS_KEY,
    FullSyncProgress,
    PairProgress,
    PartProgress,
    plan_fingerprint,
)
from hubspot_pipeline.sync.index import (
    ASSOCIATION_SCHEMA,
    HISTORY_SCHEMA,
    RECORD_SCHEMA,
    TIMESTAMP,
    AssociationSegment,
    Generation,
    IndexManifest,
    RecordSegment,
    association_key,
    generation_id,
    save_manifest,
    segment_key,
)
from hubspot_pipeline.sync.index_writer import RowSink, SegmentFile, upload_segment
from hubspot_pipeline.sync.object_types import ObjectTypeInfo, modified_property
from hubspot_pipeline.sync.selection import EVERYTHING, Selection
from hubspot_pipeline.sync.timestamps import iso_ms, parse_ts

LIST_PAGE = 100  # GET /crm/v3/objects/{type}: at most 100 per page
BATCH_READ = 100  # POST .../batch/read: at most 100 inputs, with or without propertiesWithHistory
ASSOCIATION_BATCH = 1_000  # POST /crm/v4/associations/{from}/{to}/batch/read: at most 1,000 inputs
ASSOCIATION_PAGE = 500  # associations per input per call; more come back with a cursor
ID_PROPERTY = "hs_object_id"  # the one cheap property the id listing asks for

PARTS = (("live", False), ("archived", True))


@dataclass(frozen=True)
class SyncPlan:
    """What a sync reads: the object types present, their live property names, the association pairs."""

    types: list[ObjectTypeInfo]
    properties: dict[str, list[str]]
    pairs: list[tuple[str, str]]
    # calculated properties per type: they change without bumping the modified date (incremental.py)
    calculated: dict[str, list[str]] = field(default_factory=dict)
    # per directed pair, each association type id's (category, label), as the labels snapshot has them
    association_types: dict[tuple[str, str], dict[int, tuple[str | None, str | None]]] = field(
        default_factory=dict
    )


def sync_plan(
    schemas: list[dict],
    properties: Mapping[str, list[dict]],
    association_labels: list[dict],
    *,
    selection: Selection = EVERYTHING,
) -> SyncPlan:
    """The plan from the definition snapshots (archived property definitions are not synced).

    The sync settings (`selection`, checked against the definitions first) leave out the types that
    do not sync, with every pair that involves them, and narrow each type's properties to those to
    fetch: the exported ones, the ones its record filter needs, and the ones the pipeline itself
    reads (the modified date for UPDATEDAT and the incremental sync) unless the settings exclude it by
    name.
    """
    present_all = present_types(schemas, properties)
    selection.check(present_all, properties, known_types(schemas))
    types = [t for t in present_all if selection.syncs(t)]
    live = {t.type_id: [p for p in properties[t.type_id] if not p.get("archived")] for t in types}
    names = {
        t.type_id: selection.fetched(t, (p["name"] for p in live[t.type_id]), (modified_property(t.type_id),))
        for t in types
    }
    present = set(names)
    pairs = list(
        dict.fromkeys(
            (d["fromObjectTypeId"], d["toObjectTypeId"])
            for d in association_labels
            if d["fromObjectTypeId"] in present and d["toObjectTypeId"] in present
        )
    )
    calculated = {
        tid: sorted(p["name"] for p in live[tid] if p.get("calculated") and p["name"] in set(names[tid]))
        for tid in names
    }
    kinds: dict[tuple[str, str], dict[int, tuple[str | None, str | None]]] = {}
    for d in association_labels:
        if "typeId" in d:
            kinds.setdefault((d["fromObjectTypeId"], d["toObjectTypeId"]), {})[int(d["typeId"])] = (
                d.get("category"),
                d.get("label"),
            )
    return SyncPlan(types, names, pairs, calculated, {pair: kinds.get(pair, {}) for pair in pairs})


@dataclass
class SyncStats:
    """What a sync saw: enough to compute the call floor and to report on the asset."""

    live: dict[str, int] = field(default_factory=dict)
    archived: dict[str, int] = field(default_factory=dict)
    association_rows: dict[str, int] = field(default_factory=dict)
    # per pair "from/to": the from-type's live ids asked for and continuation inputs HubSpot's paging needed
    association_inputs: dict[str, tuple[int, int]] = field(default_factory=dict)
    missing_records: int = 0  # listed, then gone before the batch read (picked up by the next sync)
    api_calls: int = 0

    @property
    def api_call_floor(self) -> int:
        return api_call_floor(
            {t: (self.live[t], self.archived.get(t, 0)) for t in self.live}, self.association_inputs.values()
        )

    def to_json(self) -> dict[str, object]:
        return {
            "api_calls": self.api_calls,
            "api_calls_floor": self.api_call_floor,
            "live_records": self.live,
            "archived_records": self.archived,
            "association_rows": self.association_rows,
            "missing_records": self.missing_records,
        }


def api_call_floor(records: Mapping[str, tuple[int, int]], pairs: Iterable[tuple[int, int]]) -> int:
    """The fewest calls a full sync needs (module docstring): records = type -> (live, archived),
    pairs = (from-type live ids, continuation inputs) per ordered pair."""
    calls = 0
    for live, archived in records.values():
        calls += max(1, math.ceil(live / LIST_PAGE)) + max(1, math.ceil(archived / LIST_PAGE))
        calls += math.ceil(live / BATCH_READ) + math.ceil(archived / BATCH_READ)
    return calls + sum(math.ceil((ids + extra) / ASSOCIATION_BATCH) for ids, extra in pairs)


@dataclass
class SyncOutcome:
    synced: bool  # False: the index was already past the day, nothing was asked of HubSpot
    manifest: IndexManifest
    generation: Generation | None = None
    api_calls: int = 0
    api_calls_floor: int = 0


class Watermark:
    """Server time at which the sync's reads began: the earliest `startedAt` of its batch answers.

    HubSpot's clock, not ours, decides which changes a read saw; the wall clock is the fallback for
    an account without a single record.
    """

    def __init__(self) -> None:
        self.value: datetime | None = None

    def observe(self, body: Any) -> None:
        stamp = body.get("startedAt") or body.get("requestedAt") if isinstance(body, dict) else None
        if stamp:
            moment = parse_ts(stamp)
            self.value = moment if self.value is None else min(self.value, moment)

    def result(self, fallback: datetime) -> str:
        return iso_ms(self.value or fallback) or ""


def full_sync(
    client: HubSpotClient,
    destination: Destination,
    plan: SyncPlan,
    manifest: IndexManifest,
    run_id: str,
    log: logging.Logger,
    *,
    replaces: list[str] | None = None,
    known_live: Mapping[str, array] | None = None,
) -> SyncOutcome:
    """Read every record, history and association of `plan` into a new generation; list it last.
    A run killed midway is resumed by the next one from its checkpoints (`full_sync_progress`).

    `replaces` (a `resync` of `all`): the types of `plan` re-read whole into a generation that
    replaces their state in the index from the next synced day on (`Generation.replaces`). It keeps
    the index's watermark (the daily sync's search goes on from where it was), its own checkpoints
    and the failed records of the other types; `known_live` gives the live ids of the types it does not
    read, for the pairs from them into the types it reads."""
    resync = replaces is not None
    progress_key = RESYNC_PROGRESS_KEY if resync else PROGRESS_KEY
    fingerprint = plan_fingerprint(
        [t.type_id for t in plan.types], plan.properties, plan.pairs, "resync" if resync else ""
    )
    progress = FullSyncProgress.load(destination, progress_key)
    if progress is not None and progress.plan != fingerprint:
        log.info("the sync plan changed since the interrupted full sync: starting over")
        progress = None
    if progress is None:
        progress = FullSyncProgress(
            generation_id(manifest.next_position(), run_id), iso_ms(datetime.now(UTC)) or "", fingerprint
        )
    else:
        log.info(
            "resuming the interrupted full sync %s: %d parts and %d pairs done, %d calls spent",
            progress.gen,
            sum(p.done for p in progress.parts.values()),
            len(progress.pairs),
            progress.api_calls,
        )
    gen = progress.gen
    calls_before, spent_before = client.total_calls(), progress.api_calls
    watermark = Watermark()
    if progress.watermark:
        watermark.observe({"startedAt": progress.watermark})
    stats = SyncStats()

    def checkpoint() -> None:
        progress.watermark = iso_ms(watermark.value)
        progress.api_calls = spent_before + client.total_calls() - calls_before
        progress.save(destination, progress_key)

    segments: list[RecordSegment] = []
    live_ids: dict[str, array] = dict(known_live or {})
    with tempfile.TemporaryDirectory(prefix="hubspot-index-") as tmp:
        for info in plan.types:
            for part, archived in PARTS:
                state = progress.part(info.type_id, part)
                ids = _sync_records(
                    client,
                    destination,
                    gen,
                    info.type_id,
                    part,
                    archived,
                    plan.properties[info.type_id],
                    tmp,
                    watermark,
                    state,
                    checkpoint,
                    progress.ingested_at,
                )
                segments.extend(state.chunks)
                (stats.archived if archived else stats.live)[info.type_id] = sum(
                    c.record_count for c in state.chunks
                )
                if not archived:
                    live_ids[info.type_id] = ids
                stats.missing_records += state.missing
            log.info(
                "synced %s: %d live, %d archived records",
                info.name,
                stats.live[info.type_id],
                stats.archived[info.type_id],
            )
        associations = _sync_pairs(
            client, destination, gen, plan, live_ids, watermark, progress, checkpoint, tmp
        )
    for (from_type, to_type), segment in zip(plan.pairs, associations, strict=True):
        pair = f"{from_type}/{to_type}"
        stats.association_rows[pair] = segment.rows
        stats.association_inputs[pair] = progress.pairs[pair].inputs
    stats.api_calls = spent_before + client.total_calls() - calls_before
    failed = failed_records.empty()
    if resync and manifest.generations:
        before = failed_records.of_generation(destination, manifest.generations[-1])
        failed = before.filter(pc.invert(pc.is_in(before.column("type_id"), pa.array(replaces, pa.string()))))
    failed = failed_records.sort(
        pa.concat_tables(
            [
                failed,
                *(failed_records.read(destination, k) for p in progress.parts.values() for k in p.failed),
            ]
        )
    )
    read_at = watermark.result(datetime.now(UTC))
    properties = plan.properties
    if resync:  # the properties of the other types stay those the daily sync last read
        properties = {**_last_properties(manifest), **plan.properties}
    generation = Generation(
        id=gen,
        kind="full",
        run_id=run_id,
        watermark=iso_ms(manifest.watermark) or read_at if resync else read_at,
        ingested_at=progress.ingested_at,
        segments=segments,
        associations=associations,
        # the property names read: the next incremental sync finds new ones by comparing
        stats={
            **stats.to_json(),
            "properties": properties,
            failed_records.STATS_KEY: failed_records.save(destination, gen, failed),
            "types": {t: {"failed": c} for t, c in failed_records.counts(failed).items()},
            **({"read_at": read_at, "resync": "all", **_carried(manifest)} if resync else {}),
        },
        replaces=list(replaces or []),
    )
    updated = manifest.with_generation(generation)
    save_manifest(destination, updated)
    FullSyncProgress.clear(destination, progress_key)
    log.info(
        "index generation %s: watermark %s, %d API calls (floor %d)",
        gen,
        generation.watermark,
        stats.api_calls,
        stats.api_call_floor,
    )
    return SyncOutcome(True, updated, generation, stats.api_calls, stats.api_call_floor)


def _sync_records(
    client: HubSpotClient,
    destination: Destination,
    gen: str,
    type_id: str,
    part: str,
    archived: bool,
    properties: list[str],
    tmp: str,
    watermark: Watermark,
    state: PartProgress,
    checkpoint: Callable[[], None],
    ingested_at: str,
) -> array:
    """Every record of one part into chunks of about `CHECKPOINT_RECORDS` (each uploaded as a
    segment and checkpointed, each batch between them saved as a pending piece), from where `state`
    says the last run stopped; the ids of the part."""
    ids = _chunk_ids(destination, state.chunks)
    if state.done:
        return ids
    body_extra = {"properties": properties, "propertiesWithHistory": properties}
    flag = str(archived).lower()
    pending: list[str] = []
    missing = state.pending_missing
    records, history = SegmentFile(RECORD_SCHEMA, tmp), SegmentFile(HISTORY_SCHEMA, tmp)
    # the batches read since the last pending piece was saved
    fresh: list[tuple[pa.Table, pa.Table]] = []
    for piece in state.pending:  # the chunk an earlier run had begun: its batches are read already
        piece_records, piece_history = _read_piece(destination, piece)
        records.append(piece_records)
        history.append(piece_history)
        ids.extend(piece_records.column("object_id").to_pylist())

    batch_failures = FailureLog()  # failures of the batches since the last piece or chunk

    def read(chunk: list[str]) -> None:
        nonlocal missing
        body = client.post(
            f"/crm/v3/objects/{type_id}/batch/read",
            {**body_extra, "inputs": [{"id": i} for i in chunk]},
            {"archived": flag},
        )
        watermark.observe(body)
        results = sorted(body.get("results") or [], key=lambda r: int(r["id"]))
        failed = batch_failures.record(type_id, part, map(int, chunk), body)
        missing += len(chunk) - len(results) - len(failed)
        fresh.append((_records_table(results), _history_table(results)))
        records.append(fresh[-1][0])
        history.append(fresh[-1][1])
        ids.extend(int(r["id"]) for r in results)

    def save_failures(name: str) -> None:
        """The failed records of the batches since the last save, in a file of their own (checkpointed
        with the piece or chunk they belong to)."""
        nonlocal batch_failures
        if batch_failures.failed:
            table = batch_failures.failures_table(parse_ts(ingested_at))
            state.failed.append(
                failed_records.write(destination, segment_key(gen, type_id, "failed", name), table)
            )
        batch_failures = FailureLog()

    def save_piece(after: str) -> None:
        """The batches since the last piece, as a pending piece of the chunk in progress."""
        piece_records, piece_history = SegmentFile(RECORD_SCHEMA, tmp), SegmentFile(HISTORY_SCHEMA, tmp)
        for batch_records, batch_history in fresh:
            piece_records.append(batch_records)
            piece_history.append(batch_history)
        name = state.pending_name(part)
        save_failures(name)
        state.pending.append(
            upload_segment(destination, gen, type_id, part, piece_records, piece_history, name=name)
        )
        state.pending_after, state.pending_missing = after, missing
        fresh.clear()
        checkpoint()

    def flush(after: str | None) -> None:
        nonlocal records, history, missing
        name = state.chunk_name(part)
        save_failures(name)
        state.chunks.append(upload_segment(destination, gen, type_id, part, records, history, name=name))
        state.after, state.done = after, after is None
        state.missing += missing
        pieces = [key for p in state.pending for key in (p.records, p.history)]
        state.pending, state.pending_after, state.pending_missing = [], None, 0
        missing = 0
        fresh.clear()
        checkpoint()
        destination.delete(pieces)  # in the chunk now (a kill before this leaves orphans compaction removes)
        records, history = SegmentFile(RECORD_SCHEMA, tmp), SegmentFile(HISTORY_SCHEMA, tmp)

    try:
        pages = cursor_pages(
            client,
            f"/crm/v3/objects/{type_id}",
            {"archived": flag, "properties": ID_PROPERTY},
            page_size=LIST_PAGE,
            after=state.pending_after if state.pending else state.after,
        )
        for page, after in pages:
            pending += [str(r["id"]) for r in page]
            while len(pending) >= BATCH_READ:
                read(pending[:BATCH_READ])
                del pending[:BATCH_READ]
            if after is None:
                if pending:
                    read(pending)
                flush(None)
            elif not pending and records.rows_appended >= CHECKPOINT_RECORDS:
                flush(after)  # a page boundary with nothing pending: the cursor says where to go on
            elif not pending and fresh:
                save_piece(after)  # a resumed run re-reads at most the batch after it
    finally:
        records.discard()
        history.discard()
    return ids


def _carried(manifest: IndexManifest) -> dict[str, object]:
    """What a resync generation carries over from the last generation for the next daily sync."""
    last = manifest.generations[-1].stats if manifest.generations else {}
    return {k: last[k] for k in ("search_since",) if k in last}


def _last_properties(manifest: IndexManifest) -> dict[str, list[str]]:
    """The properties each type was fetched with by the last generation that says ({}: none does)."""
    for generation in reversed(manifest.generations):
        props = generation.stats.get("properties")
        if isinstance(props, dict):
            return props
    return {}


def _read_piece(destination: Destination, piece: RecordSegment) -> tuple[pa.Table, pa.Table]:
    tables = []
    for key in (piece.records, piece.history):
        with destination.open_read(key) as raw:
            tables.append(pq.read_table(io.BytesIO(raw.read())))
    return tables[0], tables[1]


def _chunk_ids(destination: Destination, chunks: list[RecordSegment]) -> array:
    """The record ids of chunks an earlier run uploaded (for the associations to ask about)."""
    ids = array("q")
    for chunk in chunks:
        with destination.open_read(chunk.records) as raw:
            table = pq.read_table(io.BytesIO(raw.read()), columns=["object_id"])
        ids.extend(table.column("object_id").to_pylist())
    return ids


def _sync_pairs(
    client: HubSpotClient,
    destination: Destination,
    gen: str,
    plan: SyncPlan,
    live_ids: dict[str, array],
    watermark: Watermark,
    progress: FullSyncProgress,
    checkpoint: Callable[[], None],
    tmp: str,
) -> list[AssociationSegment]:
    """Every pair's associations, pair after pair, into files of about `ASSOCIATION_FILE_ROWS`
    rows (a reader's pair filter skips the row groups of other pairs), each file checkpointed once
    uploaded; pairs an earlier run checkpointed are taken as they are."""
    todo = [p for p in plan.pairs if f"{p[0]}/{p[1]}" not in progress.pairs]
    files = len({v.segment.key for v in progress.pairs.values()})
    waiting: list[tuple[str, str, int, int]] = []  # pairs written to the open file, not yet uploaded
    out = SegmentFile(ASSOCIATION_SCHEMA, tmp)
    try:
        for index, (from_type, to_type) in enumerate(todo):
            ids = live_ids[from_type]
            before = out.rows_appended
            _, extra = sync_associations(client, out, from_type, to_type, ids, watermark)
            waiting.append((from_type, to_type, out.rows_appended - before, extra))
            if out.rows_appended >= ASSOCIATION_FILE_ROWS or index == len(todo) - 1:
                key = association_key(gen, files)
                out.upload(destination, key)
                files += 1
                for f, t, rows, more in waiting:
                    inputs = (len(live_ids[f]), more)
                    progress.pairs[f"{f}/{t}"] = PairProgress(AssociationSegment(f, t, key, rows), inputs)
                waiting = []
                checkpoint()
                out = SegmentFile(ASSOCIATION_SCHEMA, tmp)
    finally:
        out.discard()
    return [progress.pairs[f"{f}/{t}"].segment for f, t in plan.pairs]


def _timestamps(values: list[str | None]) -> pa.Array:
    """ISO strings to timestamps in C; HubSpot's epoch-millisecond strings through Python."""
    try:
        return pa.array(values, pa.string()).cast(TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v in (None, "") else parse_ts(v) for v in values], TIMESTAMP)


def _records_table(results: list[dict]) -> pa.Table:
    return pa.Table.from_arrays(
        [
            pa.array([int(r["id"]) for r in results], pa.int64()),
            _timestamps([r.get("createdAt") for r in results]),
            _timestamps([r.get("updatedAt") for r in results]),
            pa.array([bool(r.get("archived", False)) for r in results], pa.bool_()),
            _timestamps([r.get("archivedAt") for r in results]),
            pa.array(
                [[(k, v) for k, v in (r.get("properties") or {}).items() if v is not None] for r in results],
                RECORD_SCHEMA.field("properties").type,
            ),
        ],
        schema=RECORD_SCHEMA,
    )


def _history_table(results: list[dict]) -> pa.Table:
    """One row per history entry, by record then property; each property's entries oldest first
    (HubSpot lists them newest first)."""
    columns: dict[str, list[Any]] = {name: [] for name in HISTORY_SCHEMA.names}
    for record in results:
        record_id = int(record["id"])
        for name, entries in sorted((record.get("propertiesWithHistory") or {}).items()):
            for entry in reversed(entries or []):
                columns["object_id"].append(record_id)
                columns["name"].append(name)
                columns["value"].append(entry.get("value"))
                columns["timestamp"].append(entry.get("timestamp"))
                columns["source_type"].append(entry.get("sourceType"))
                columns["source_id"].append(_text(entry.get("sourceId")))
                columns["source_label"].append(_text(entry.get("sourceLabel")))
                columns["updated_by_user_id"].append(_int(entry.get("updatedByUserId")))
    arrays = [
        _timestamps(values) if name == "timestamp" else pa.array(values, HISTORY_SCHEMA.field(name).type)
        for name, values in columns.items()
    ]
    return pa.Table.from_arrays(arrays, schema=HISTORY_SCHEMA)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    try:
        return None if value in (None, "") else int(value)
    except (TypeError, ValueError):
        return None


def sync_associations(
    client: HubSpotClient,
    out: RowSink,
    from_type: str,
    to_type: str,
    from_ids: array,
    watermark: Watermark,
) -> tuple[int, int]:
    """Every association of one ordered pair into `out`; returns the rows written and the
    continuation inputs sent."""
    path = f"/crm/v4/associations/{from_type}/{to_type}/batch/read"
    continuations: deque[dict[str, str]] = deque()
    extra = 0
    rows_before = out.rows_appended
    position = 0
    while continuations or position < len(from_ids):
        inputs = [continuations.popleft() for _ in range(min(len(continuations), ASSOCIATION_BATCH))]
        take = ASSOCIATION_BATCH - len(inputs)
        inputs += [{"id": str(i)} for i in from_ids[position : position + take]]
        position += take
        body = client.post(path, {"inputs": inputs})
        watermark.observe(body)
        rows: dict[str, list[Any]] = {name: [] for name in ASSOCIATION_SCHEMA.names}
        for result in body.get("results") or []:
            from_id = int(result["from"]["id"])
            for target in result.get("to") or []:
                for kind in target.get("associationTypes") or []:
                    rows["from_id"].append(from_id)
                    rows["to_id"].append(int(target["toObjectId"]))
                    rows["type_id"].append(int(kind["typeId"]))
                    rows["category"].append(kind.get("category"))
                    rows["label"].append(kind.get("label"))
            after = ((result.get("paging") or {}).get("next") or {}).get("after")
            if after:
                continuations.append({"id": str(from_id), "after": str(after)})
                extra += 1
        count = len(rows["from_id"])
        rows["from_type"], rows["to_type"] = [from_type] * count, [to_type] * count
        out.append(
            pa.Table.from_pydict(rows, schema=ASSOCIATION_SCHEMA).sort_by(
                [("from_id", "ascending"), ("to_id", "ascending"), ("type_id", "ascending")]
            )
        )
    return out.rows_appended - rows_before, extra
