"""SYNC_HEALTH and SYNC_ISSUES: per object type, the records the index holds for the day by state,
and each record that is not synced with why.

- SYNCED: records that exist as of the day and that the export keeps (the OBJECTS rows of the type);
- DELETED: tombstones, records archived or merged away before the end of the day;
- EXCLUDED: records that exist as of the day but that the sync settings' record filter leaves out
  (existing minus kept; types that do not sync have no rows at all);
- FAILED: records whose last read failed (207 batch errors other than "not found"), per error
  category, from the failed records of the generation that synced the day (`sync.failed_records`):
  the earliest at or past its end. A failed record an earlier sync read is still exported with the
  version read then, so it counts in SYNCED too. A failed page fails the whole run instead, leaving
  the index as it was.

SYNC_ISSUES lists every FAILED and EXCLUDED record of the day: for FAILED, HubSpot's category and
message, a hint on what to do, and when it was first and last tried; for EXCLUDED, ERRORCATEGORY
`FILTERED` and the first condition of the sync settings the record does not meet (its attempt
columns are empty: it is read, then left out). Its counts equal SYNC_HEALTH's (a blocking check).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from hubspot_pipeline.store import read_table
from hubspot_pipeline.sync import failed_records
from hubspot_pipeline.sync.index import TIMESTAMP, Generation, to_ms
from hubspot_pipeline.sync.index_reader import IndexReader
from hubspot_pipeline.sync.object_types import ObjectTypeInfo
from hubspot_pipeline.sync.type_access import Unavailable
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.crm_tables import (
    index_reader,
    kept_ids,
    object_types,
    selection_notes,
    unavailable_types,
)
from hubspot_pipeline.tables.export import CheckOutcome, WrittenTable
from hubspot_pipeline.tables.spec import Row, TableData, TableSpec


def _syncing_generation(reader: IndexReader, ctx: ExportContext) -> Generation:
    return reader.manifest.syncing(ctx.as_of)


def _synced_and_excluded(ctx: ExportContext, reader: IndexReader, info: ObjectTypeInfo) -> tuple[int, int]:
    kept = len(kept_ids(ctx, reader, info))
    if not ctx.selection.filters(info):
        return kept, 0
    return kept, len(reader.as_of_ids(info.type_id, ctx.as_of)) - kept


def _failed_records(reader: IndexReader, ctx: ExportContext) -> pa.Table:
    """The failed records of the generation that synced the day, of the types the export covers."""
    table = failed_records.of_generation(ctx.destination, _syncing_generation(reader, ctx))
    types = pa.array([t.type_id for t in object_types(ctx)], pa.string())
    return table.filter(pc.is_in(table.column("type_id"), types))


def _failed(reader: IndexReader, ctx: ExportContext) -> dict[str, dict[str, int]]:
    """FAILED records per type id and error category, from the generation that synced the day (one
    written before the failed records were kept gives its per-category counts)."""
    generation = _syncing_generation(reader, ctx)
    if failed_records.STATS_KEY in generation.stats:
        return failed_records.counts(_failed_records(reader, ctx))
    per_type = generation.stats.get("types") or {}
    if not isinstance(per_type, dict):
        return {}
    return {tid: {c: int(n) for c, n in (s.get("failed") or {}).items()} for tid, s in per_type.items()}


# (type id, state, error category, records, how to fix, ingested at)
HealthRow = tuple[str, str, str | None, int | None, str | None, int | None]
UNAVAILABLE = "UNAVAILABLE"


def health_counts(ctx: ExportContext) -> list[HealthRow]:
    """The day's SYNC_HEALTH rows: per synced type its records by state (FAILED per category), then one
    UNAVAILABLE row per type the token cannot sync, with the reason as category and no record count."""
    reader = index_reader(ctx)
    at = to_ms(_syncing_generation(reader, ctx).ingested_at)
    failed = _failed(reader, ctx)
    rows: list[HealthRow] = []
    for info in object_types(ctx):
        tid = info.type_id
        synced, excluded = _synced_and_excluded(ctx, reader, info)
        rows.append((tid, "SYNCED", None, synced, None, at))
        rows.append((tid, "DELETED", None, reader.tombstones_before(tid, ctx.as_of), None, at))
        rows.append((tid, "EXCLUDED", None, excluded, FILTERED_HOW_TO_FIX if excluded else None, at))
        by_category = failed.get(tid) or {}
        rows += [
            (tid, "FAILED", category, n, HOW_TO_FIX.get(category, DEFAULT_HOW_TO_FIX), at)
            for category, n in sorted(by_category.items())
        ]
        if not by_category:
            rows.append((tid, "FAILED", None, 0, None, at))
    rows += [
        (t.type_id, UNAVAILABLE, why.category, None, why.how_to_fix, at) for t, why in unavailable_types(ctx)
    ]
    return rows


def produce_sync_health(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    rows: list[Row] = list(health_counts(ctx))
    names = {t.type_id: t.name for t in object_types(ctx)}
    # plain numbers per type name and state, so the UI plots each over the partitions
    figures: dict[str, int] = {}
    for type_id, state, _, records, _, _ in rows:
        if records is None:
            continue
        key = f"{names.get(type_id, type_id)}/{state.lower()}"
        figures[key] = figures.get(key, 0) + int(records)
    notes = selection_notes(ctx, object_types(ctx))
    yield TableData(spec.name, spec.columns, rows, spec.primary_key, notes, figures)


# What to do about a failed record, per HubSpot error category (hubspot-api.md §8).
HOW_TO_FIX: dict[str, str] = {
    "MISSING_SCOPES": "add the scope HubSpot names to the private app and update HUBSPOT_ACCESS_TOKEN",
    "RATE_LIMITS": "retried by the next daily run; lower HUBSPOT_RATE_LIMIT_PER_10S if it recurs",
    "INTERNAL_ERROR": "HubSpot's side: retried by each daily run; run the resync job (which: failed) to retry now",
    "SERVICE_UNAVAILABLE": "HubSpot's side: retried by each daily run; run the resync job (which: failed) to retry now",
    "PROPERTY_DOESNT_EXIST": "a property that no longer exists: the next definitions refresh drops it; then run "
    "the resync job (which: failed)",
    "VALIDATION_ERROR": "HubSpot cannot read a value of the record: fix or clear it in HubSpot, then run the "
    "resync job (which: failed)",
    "INVALID_AUTHENTICATION": "the token was rejected: set HUBSPOT_ACCESS_TOKEN to a valid token",
    "EXPIRED_AUTHENTICATION": "the token expired: refresh it and set HUBSPOT_ACCESS_TOKEN",
}
DEFAULT_HOW_TO_FIX = (
    "retried by each daily run; if it persists, run the resync job (which: failed) or ask HubSpot"
)
GAVE_UP = "; no longer retried daily after {n} failed attempts: run the resync job (which: failed)"
FILTERED = "FILTERED"
FILTERED_HOW_TO_FIX = "intended: change the record filter of HUBSPOT_SYNC_SETTINGS to export it"

ISSUE_SCHEMA = pa.schema(
    [
        ("OBJECTTYPEID", pa.string()),
        ("OBJECTID", pa.int64()),
        ("STATE", pa.string()),
        ("ERRORCATEGORY", pa.string()),
        ("MESSAGE", pa.string()),
        ("HOWTOFIX", pa.string()),
        ("FIRSTSEENAT", TIMESTAMP),
        ("LASTATTEMPTAT", TIMESTAMP),
        ("ATTEMPTS", pa.int64()),
        ("INGESTEDAT", TIMESTAMP),
    ]
)


def _how_to_fix(categories: pa.Array, attempts: pa.Array, retry_days: int) -> pa.Array:
    hints = pc.coalesce(
        pc.take(pa.array(list(HOW_TO_FIX.values())), pc.index_in(categories, pa.array(list(HOW_TO_FIX)))),
        pa.scalar(DEFAULT_HOW_TO_FIX),
    )
    gave_up = pc.greater_equal(attempts, retry_days)
    return pc.if_else(gave_up, pc.binary_join_element_wise(hints, GAVE_UP.format(n=retry_days), ""), hints)


def _failed_batch(table: pa.Table, ingested: pa.Scalar, retry_days: int) -> pa.RecordBatch:
    n = table.num_rows
    attempts = table.column("attempts").combine_chunks()
    return pa.RecordBatch.from_arrays(
        [
            table.column("type_id").combine_chunks(),
            table.column("object_id").combine_chunks(),
            pa.repeat(pa.scalar("FAILED"), n),
            table.column("category").combine_chunks(),
            table.column("message").combine_chunks(),
            _how_to_fix(table.column("category").combine_chunks(), attempts, retry_days),
            table.column("first_attempt_at").combine_chunks(),
            table.column("last_attempt_at").combine_chunks(),
            attempts.cast(pa.int64()),
            pa.repeat(ingested, n),
        ],
        schema=ISSUE_SCHEMA,
    )


def _excluded_batches(
    ctx: ExportContext, reader: IndexReader, info: ObjectTypeInfo, ingested: pa.Scalar
) -> Iterator[pa.RecordBatch]:
    """The records the record filter leaves out, each with the first condition it does not meet."""
    conditions = ctx.selection.conditions(info)
    messages = pa.array(
        [f"left out by the sync settings: {info.name} records need {c.describe()}" for c in conditions]
    )
    for batch in reader.as_of_batches(info.type_id, ctx.as_of, values=True):
        unmet = ctx.selection.first_unmet(info, batch)
        out = unmet >= 0
        n = int(out.sum())
        if not n:
            continue
        nothing = pa.nulls(n, TIMESTAMP)
        yield pa.RecordBatch.from_arrays(
            [
                pa.repeat(pa.scalar(info.type_id), n),
                batch.records.column("object_id").combine_chunks().filter(pa.array(out)),
                pa.repeat(pa.scalar("EXCLUDED"), n),
                pa.repeat(pa.scalar(FILTERED), n),
                pc.take(messages, pa.array(unmet[out])),
                pa.repeat(pa.scalar(FILTERED_HOW_TO_FIX), n),
                nothing,
                nothing,
                pa.nulls(n, pa.int64()),
                pa.repeat(ingested, n),
            ],
            schema=ISSUE_SCHEMA,
        )


def _issue_batches(ctx: ExportContext, reader: IndexReader) -> Iterator[pa.RecordBatch]:
    generation = _syncing_generation(reader, ctx)
    ingested = pa.scalar(to_ms(generation.ingested_at), pa.int64()).cast(TIMESTAMP)
    retry_days = int(generation.stats.get(failed_records.RETRY_DAYS_KEY) or failed_records.DEFAULT_RETRY_DAYS)
    failed = _failed_records(reader, ctx)
    for info in object_types(ctx):
        mine = failed.filter(pc.equal(failed.column("type_id"), info.type_id))
        if mine.num_rows:
            yield _failed_batch(mine, ingested, retry_days)
        if ctx.selection.filters(info):
            yield from _excluded_batches(ctx, reader, info, ingested)
    missing = unavailable_types(ctx)
    if missing:
        yield _unavailable_batch(missing, ingested)


def _unavailable_batch(
    missing: list[tuple[ObjectTypeInfo, Unavailable]], ingested: pa.Scalar
) -> pa.RecordBatch:
    """One row per type the token cannot sync: no record id, HubSpot's answer and what to change."""
    n = len(missing)
    nothing = pa.nulls(n, TIMESTAMP)
    return pa.RecordBatch.from_arrays(
        [
            pa.array([t.type_id for t, _ in missing], pa.string()),
            pa.nulls(n, pa.int64()),
            pa.repeat(pa.scalar(UNAVAILABLE), n),
            pa.array([why.category for _, why in missing], pa.string()),
            pa.array([why.message for _, why in missing], pa.string()),
            pa.array([why.how_to_fix for _, why in missing], pa.string()),
            nothing,
            nothing,
            pa.nulls(n, pa.int64()),
            pa.repeat(ingested, n),
        ],
        schema=ISSUE_SCHEMA,
    )


def produce_sync_issues(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    reader = index_reader(ctx)
    notes = selection_notes(ctx, object_types(ctx))
    yield TableData(spec.name, spec.columns, _issue_batches(ctx, reader), spec.primary_key, notes)


def check_issues_match_health(ctx: ExportContext, written: list[WrittenTable]) -> CheckOutcome:
    """SYNC_ISSUES holds one row per record SYNC_HEALTH counts as FAILED or EXCLUDED, per type and state,
    and one per type it reports UNAVAILABLE."""
    issues = read_table(ctx.destination, ctx.day.isoformat(), "SYNC_ISSUES")
    listed = Counter(
        zip(issues.column("OBJECTTYPEID").to_pylist(), issues.column("STATE").to_pylist(), strict=True)
    )
    counted: Counter[tuple[str, str]] = Counter()
    for type_id, state, _, records, _, _ in health_counts(ctx):
        if state in ("FAILED", "EXCLUDED") and records:
            counted[(type_id, state)] += int(records)
        elif state == UNAVAILABLE:
            counted[(type_id, state)] += 1  # one row per type
    differ = {
        f"{t}/{s}": {"SYNC_ISSUES": listed[(t, s)], "SYNC_HEALTH": counted[(t, s)]}
        for t, s in sorted(set(listed) | set(counted))
        if listed[(t, s)] != counted[(t, s)]
    }
    return CheckOutcome(
        "issues_match_health",
        not differ,
        "SYNC_ISSUES lists as many records per type and state as SYNC_HEALTH counts FAILED and EXCLUDED",
        {"differences": differ},
    )


def check_no_failed_records(ctx: ExportContext, written: list[WrittenTable]) -> CheckOutcome:
    failed = _failed(index_reader(ctx), ctx)
    types = {t.type_id for t in object_types(ctx)}
    found = {
        f"{tid}/{c}": n for tid in sorted(types & set(failed)) for c, n in sorted(failed[tid].items()) if n
    }
    return CheckOutcome(
        "no_failed_records",
        not found,
        "no record of the day failed to sync (SYNC_HEALTH FAILED rows are all zero)",
        {"failed": found},
    )
