"""The daily incremental sync: only what changed since the index watermark, into a `delta` generation.

Per object type (hubspot-api.md §3.3, §3.4):
1. changed ids through search on the modified date (`lastmodifieddate` for contacts,
   `hs_lastmodifieddate` otherwise) from the watermark minus a look-back overlap (search lags
   writes), sorted by that date. Search pages stop at 10,000 results, so a window that would pass
   them is cut at the last timestamp read; every record at exactly that timestamp is then paged by
   `hs_object_id GT <last id>` (20,000 records sharing one timestamp neither loop nor get lost), and
   the next window starts strictly after it. Ids are deduplicated.
2. the changed ids through batch read with every property and its history (100 per call); history
   rows already in the index are dropped, so the index holds each entry once.
3. archived ids through the archived list (ids only; the API offers no "archived since" filter);
   ids not yet tombstones are batch read (`archived=true`) into the `archived` part. A merge archives
   the merged-away record (it shows up here) and bumps the survivor (it shows up in step 1).
4. new properties on a type already synced: records with a value (`HAS_PROPERTY`) are re-read with
   history, like changed ones. A new object type is read whole (a search window from 0).
5. calculated properties change without bumping the modified date: every day a rotating slice of
   the live records (id % K == day % K, K = `calculated_refresh_days`) is re-read for them only.
6. associations change without bumping it either: the changed records' associations plus a rotating
   slice (K = `association_refresh_days`) are re-read into `scope: from_ids` segments; K = 1 is a
   full rescan (`scope: full`). New pairs are read whole.

7. reconcile (on days divisible by `reconcile_every_days`): the live list (ids and `updatedAt`,
   100 per call) against the index; ids missing or older in the index join the changed ids. It
   recovers what the searches missed: changes the search index showed late, reads that failed.

The manifest is replaced only after every segment is uploaded: a failed run leaves the index as it
was, and the next run starts again from the last good watermark.
"""

from __future__ import annotations

import logging
import os
import tempfile
from array import array
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync.full_sync import (
    BATCH_READ,
    ID_PROPERTY,
    LIST_PAGE,
    SyncOutcome,
    SyncPlan,
    Watermark,
    _history_table,
    _records_table,
    sync_associations,
    upload_segment,
)
from hubspot_pipeline.sync.index import (
    ASSOCIATION_SCHEMA,
    HISTORY_SCHEMA,
    RECORD_SCHEMA,
    REFRESHED_SCHEMA,
    AssociationSegment,
    Generation,
    IndexManifest,
    RecordSegment,
    association_key,
    generation_id,
    refreshed_ids_key,
    save_manifest,
    to_ms,
)
from hubspot_pipeline.sync.index_reader import DISTINCT_HISTORY_COLUMNS, IndexReader
from hubspot_pipeline.sync.index_writer import SegmentFile
from hubspot_pipeline.sync.timestamps import iso_ms

SEARCH_PAGE = 200  # search `limit` maximum
SEARCH_CAP = 10_000  # after + limit may not pass this
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class IncrementalSettings:
    """How far back each daily search reaches, and how stale the silent changes may get."""

    # The defaults re-read every silent change daily (exact, dearer); the deployment's defaults from
    # the environment (`from_env`) let them be up to 7 days stale to fit the daily call budget.
    lookback: timedelta = timedelta(hours=1)
    association_refresh_days: int = 1  # every association re-read at least every K days; 1 = full rescan
    calculated_refresh_days: int = 1  # every calculated property re-read at least every K days
    reconcile_every_days: int = 7  # the reconcile pass (`reconcile_ids`) runs on days divisible by it

    @classmethod
    def from_env(cls) -> IncrementalSettings:
        env = os.environ
        return cls(
            lookback=timedelta(minutes=float(env.get("HUBSPOT_SYNC_LOOKBACK_MINUTES", "60"))),
            association_refresh_days=max(1, int(env.get("HUBSPOT_ASSOCIATION_REFRESH_DAYS", "7"))),
            calculated_refresh_days=max(1, int(env.get("HUBSPOT_CALCULATED_REFRESH_DAYS", "7"))),
            reconcile_every_days=max(1, int(env.get("HUBSPOT_RECONCILE_EVERY_DAYS", "7"))),
        )


def modified_property(type_id: str) -> str:
    return "lastmodifieddate" if type_id == "0-1" else "hs_lastmodifieddate"


# -- finding changed ids ---------------------------------------------------------------------------


def _search_window(
    client: HubSpotClient, type_id: str, filters: list[dict], sort: str, prop: str
) -> tuple[list[dict], int]:
    """Up to 10,000 results of one search, sorted by `sort` ascending, and the search's total."""
    path = f"/crm/v3/objects/{type_id}/search"
    results: list[dict] = []
    total = 0
    while True:
        body = {
            "filterGroups": [{"filters": filters}] if filters else [],
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
            "properties": [prop],
            "limit": min(SEARCH_PAGE, SEARCH_CAP - len(results)),
            **({"after": str(len(results))} if results else {}),
        }
        page = client.post(path, body)
        total = int(page.get("total") or 0)
        found = page.get("results") or []
        results += found
        if not found or len(results) >= min(total, SEARCH_CAP):
            return results, total


def windowed_ids(
    client: HubSpotClient, type_id: str, since_ms: int, extra: list[dict] | None = None
) -> set[int]:
    """Ids of records whose modified date is at or after `since_ms` (and that match `extra`), in
    windows on (timestamp, id) that never ask past the 10,000-result cap (module docstring)."""
    prop = modified_property(type_id)
    ids: set[int] = set()
    lower, operator = since_ms, "GTE"
    while True:
        filters = [{"propertyName": prop, "operator": operator, "value": str(lower)}, *(extra or [])]
        results, total = _search_window(client, type_id, filters, prop, prop)
        ids.update(int(r["id"]) for r in results)
        if len(results) >= total:
            return ids
        stamp = to_ms((results[-1].get("properties") or {}).get(prop))
        if stamp is None:  # sorted last: nothing dated is left past the cap
            return ids
        last_id = 0
        while True:  # every record at exactly `stamp`, by id
            tie = [
                {"propertyName": prop, "operator": "EQ", "value": str(stamp)},
                {"propertyName": ID_PROPERTY, "operator": "GT", "value": str(last_id)},
                *(extra or []),
            ]
            found, tie_total = _search_window(client, type_id, tie, ID_PROPERTY, prop)
            ids.update(int(r["id"]) for r in found)
            if len(found) >= tie_total or not found:
                break
            last_id = int(found[-1]["id"])
        lower, operator = stamp, "GT"


def archived_ids(client: HubSpotClient, type_id: str) -> np.ndarray:
    """Every archived id of a type (the list endpoint, ids only)."""
    listing = client.paginate(
        f"/crm/v3/objects/{type_id}", {"archived": "true", "properties": ID_PROPERTY}, page_size=LIST_PAGE
    )
    return np.unique(np.array([int(r["id"]) for page in listing for r in page], dtype=np.int64))


def reconcile_ids(client: HubSpotClient, reader: IndexReader, type_id: str) -> set[int]:
    """Live ids the index lacks or holds older than the account: a cheap scan of the list endpoint
    (ids and `updatedAt`, one property, 100 per call) against the index. It recovers what the
    incremental searches missed (late in the search index, failed reads); deletes are the archived
    list's."""
    ids, updated = reader.latest_updated(type_id)
    listing = client.paginate(
        f"/crm/v3/objects/{type_id}", {"archived": "false", "properties": ID_PROPERTY}, page_size=LIST_PAGE
    )
    stale: set[int] = set()
    for page in listing:
        listed = np.array([int(r["id"]) for r in page], dtype=np.int64)
        stamps = np.array([to_ms(r.get("updatedAt")) or 0 for r in page], dtype=np.int64)
        at = np.clip(np.searchsorted(ids, listed), 0, max(len(ids) - 1, 0))
        known = (ids[at] == listed) if len(ids) else np.zeros(len(listed), dtype=bool)
        behind = ~known | (updated[at] < stamps if len(ids) else True)
        stale.update(int(i) for i in listed[behind])
    return stale


# -- reading records -------------------------------------------------------------------------------


def _history_key(table: pa.Table) -> pa.Array:
    """One string per history row over the distinct-entry columns (nulls made comparable)."""
    columns = [pc.fill_null(pc.cast(table.column(c), pa.string()), "\x00") for c in DISTINCT_HISTORY_COLUMNS]
    return pc.binary_join_element_wise(*columns, "\x1f")


@dataclass
class _Read:
    segment: RecordSegment
    ids: np.ndarray  # ids read
    failed: dict[str, int]  # error category -> inputs


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
) -> _Read:
    """Batch read `ids` (sorted) with history into one segment, leaving out history already indexed."""
    archived = part == "archived"
    known = _history_key(reader.history_of(type_id, ids))
    body_extra = {"properties": properties, "propertiesWithHistory": properties}
    read = array("q")
    failed: dict[str, int] = {}
    with SegmentFile(RECORD_SCHEMA, tmp) as records, SegmentFile(HISTORY_SCHEMA, tmp) as history:
        for start in range(0, len(ids), BATCH_READ):
            chunk = ids[start : start + BATCH_READ]
            body = client.post(
                f"/crm/v3/objects/{type_id}/batch/read",
                {**body_extra, "inputs": [{"id": str(i)} for i in chunk]},
                {"archived": str(archived).lower()},
            )
            watermark.observe(body)
            for error in body.get("errors") or []:
                category = str(error.get("category") or "UNKNOWN")
                if category != "OBJECT_NOT_FOUND":  # gone since the search: the archived list has it
                    failed[category] = failed.get(category, 0) + len(
                        (error.get("context") or {}).get("ids") or [1]
                    )
            results = sorted(body.get("results") or [], key=lambda r: int(r["id"]))
            if part != "calculated":
                records.append(_records_table(results))
            rows = _history_table(results)
            if rows.num_rows and len(known):
                rows = rows.filter(pc.invert(pc.is_in(_history_key(rows), known)))
            history.append(rows)
            read.extend(int(r["id"]) for r in results)
        segment = upload_segment(destination, gen, type_id, part, records, history)
    return _Read(segment, np.array(read, dtype=np.int64), failed)


def _slice(ids: np.ndarray, every: int, day: int) -> np.ndarray:
    """The rotating share of `ids` due today: each id once every `every` days."""
    return ids if every <= 1 else ids[ids % every == day % every]


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
) -> SyncOutcome:
    """Fetch what changed since the manifest's watermark into a new `delta` generation; list it last."""
    settings = settings or IncrementalSettings()
    previous = manifest.watermark
    assert previous is not None, "an incremental sync needs a first full sync"
    gen = generation_id(len(manifest.generations) + 1, run_id)
    ingested_at = iso_ms(datetime.now(UTC)) or ""
    calls_before = client.total_calls()
    reader = IndexReader(destination, manifest)
    day = as_of.toordinal()
    watermark = Watermark()
    # server time before any read: changes after it may not be seen by this run
    watermark.observe(client.post(f"/crm/v3/objects/{plan.types[0].type_id}/batch/read", {"inputs": []}))
    since = to_ms(previous - settings.lookback) or 0
    reconcile = day % settings.reconcile_every_days == 0
    known_types = set(manifest.type_ids())
    last_props = _last_properties(manifest)
    segments: list[RecordSegment] = []
    changed: dict[str, np.ndarray] = {}
    tombstones: dict[str, np.ndarray] = {}
    stats: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="hubspot-delta-") as tmp:
        for info in plan.types:
            tid, props = info.type_id, plan.properties[info.type_id]
            ids = windowed_ids(client, tid, since if tid in known_types else 0)
            if reconcile and tid in known_types:
                ids |= reconcile_ids(client, reader, tid)
            for name in sorted(set(props) - set(last_props.get(tid, props))) if tid in known_types else []:
                ids |= windowed_ids(client, tid, 0, [{"propertyName": name, "operator": "HAS_PROPERTY"}])
            live = read_part(
                client,
                destination,
                reader,
                gen,
                tid,
                "live",
                np.array(sorted(ids), np.int64),
                props,
                tmp,
                watermark,
            )
            gone = np.setdiff1d(archived_ids(client, tid), reader.part_ids(tid, "archived"))
            dead = read_part(client, destination, reader, gen, tid, "archived", gone, props, tmp, watermark)
            segments += [live.segment, dead.segment]
            changed[tid], tombstones[tid] = live.ids, dead.ids
            calc_read = 0
            if plan.calculated.get(tid) and tid in known_types:
                due = np.setdiff1d(
                    _slice(_live_ids(reader, tid), settings.calculated_refresh_days, day), live.ids
                )
                due = np.setdiff1d(due, dead.ids)
                calc = read_part(
                    client,
                    destination,
                    reader,
                    gen,
                    tid,
                    "calculated",
                    due,
                    plan.calculated[tid],
                    tmp,
                    watermark,
                )
                segments.append(calc.segment)
                calc_read = len(calc.ids)
            stats[tid] = {
                "changed": len(live.ids),
                "new_tombstones": len(dead.ids),
                "calculated_refreshed": calc_read,
                "reconciled": reconcile,
                "failed": {
                    k: live.failed.get(k, 0) + dead.failed.get(k, 0) for k in {*live.failed, *dead.failed}
                },
            }
            log.info("delta %s: %d changed, %d new tombstones", info.name, len(live.ids), len(dead.ids))
        associations = _refresh_associations(
            client, destination, reader, gen, plan, settings, day, changed, tombstones, tmp, watermark
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
            "types": stats,
            "properties": plan.properties,
        },
    )
    updated = IndexManifest([*manifest.generations, generation])
    save_manifest(destination, updated)
    log.info("index generation %s (delta): watermark %s", gen, generation.watermark)
    return SyncOutcome(True, updated, generation, client.total_calls() - calls_before, 0)


def _last_properties(manifest: IndexManifest) -> dict[str, list[str]]:
    for generation in reversed(manifest.generations):
        props = generation.stats.get("properties")
        if isinstance(props, dict):
            return props
    return {}


def _live_ids(reader: IndexReader, type_id: str) -> np.ndarray:
    """Ids live in the index now (before this run's delta)."""
    return reader.as_of_ids(type_id, _FAR_FUTURE)


def _refresh_associations(
    client: HubSpotClient,
    destination: Destination,
    reader: IndexReader,
    gen: str,
    plan: SyncPlan,
    settings: IncrementalSettings,
    day: int,
    changed: dict[str, np.ndarray],
    tombstones: dict[str, np.ndarray],
    tmp: str,
    watermark: Watermark,
) -> list[AssociationSegment]:
    known_pairs = set(reader.manifest.pairs())
    live: dict[str, np.ndarray] = {}
    segments: list[AssociationSegment] = []
    key, ids_key = association_key(gen), refreshed_ids_key(gen)
    with SegmentFile(ASSOCIATION_SCHEMA, tmp) as out, SegmentFile(REFRESHED_SCHEMA, tmp) as refreshed:
        for from_type, to_type in plan.pairs:
            if from_type not in live:
                now_live = np.union1d(_live_ids(reader, from_type), changed.get(from_type, []))
                live[from_type] = np.setdiff1d(now_live, tombstones.get(from_type, [])).astype(np.int64)
            full = (from_type, to_type) not in known_pairs or settings.association_refresh_days <= 1
            ids = (
                live[from_type]
                if full
                else np.union1d(
                    changed.get(from_type, np.array([], np.int64)),
                    _slice(live[from_type], settings.association_refresh_days, day),
                ).astype(np.int64)
            )
            rows, _ = sync_associations(client, out, from_type, to_type, array("q", ids.tolist()), watermark)
            if not full:
                n = len(ids)
                refreshed.append(
                    pa.table(
                        {
                            "from_type": [from_type] * n,
                            "to_type": [to_type] * n,
                            "from_id": pa.array(ids, pa.int64()),
                        },
                        schema=REFRESHED_SCHEMA,
                    )
                )
            segments.append(
                AssociationSegment(
                    from_type, to_type, key, rows, "full" if full else "from_ids", "" if full else ids_key
                )
            )
        out.upload(destination, key)
        refreshed.upload(destination, ids_key)
    return segments
