"""SYNC_HEALTH: per object type, how many records the index holds for the day, by state.

- SYNCED: records that exist as of the day and that the export keeps (the OBJECTS rows of the type);
- DELETED: tombstones, records archived or merged away before the end of the day;
- EXCLUDED: records that exist as of the day but that the sync settings' record filter leaves out
  (existing minus kept; types that do not sync have no rows at all);
- FAILED: records the sync could not read, per error category (207 batch errors other than
  "not found"); a failed page fails the whole run instead, leaving the index as it was.
FAILED comes from the generation that synced the day: the earliest at or past its end.
"""

from __future__ import annotations

from collections.abc import Iterator

from hubspot_pipeline.sync.index import Generation, to_ms
from hubspot_pipeline.sync.index_reader import IndexReader
from hubspot_pipeline.sync.object_types import ObjectTypeInfo
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.crm_tables import index_reader, kept_ids, object_types, selection_notes
from hubspot_pipeline.tables.export import CheckOutcome, WrittenTable
from hubspot_pipeline.tables.spec import Row, TableData, TableSpec


def _syncing_generation(reader: IndexReader, ctx: ExportContext) -> Generation:
    return reader.manifest.syncing(ctx.as_of)


def _synced_and_excluded(ctx: ExportContext, reader: IndexReader, info: ObjectTypeInfo) -> tuple[int, int]:
    kept = len(kept_ids(ctx, reader, info))
    if not ctx.selection.filters(info):
        return kept, 0
    return kept, len(reader.as_of_ids(info.type_id, ctx.as_of)) - kept


def _failed(reader: IndexReader, ctx: ExportContext) -> dict[str, dict[str, int]]:
    """FAILED records per type id and error category, from the generation that synced the day."""
    per_type = _syncing_generation(reader, ctx).stats.get("types") or {}
    if not isinstance(per_type, dict):
        return {}
    return {tid: {c: int(n) for c, n in (s.get("failed") or {}).items()} for tid, s in per_type.items()}


def health_counts(ctx: ExportContext) -> list[tuple[str, str, str | None, int, int | None]]:
    """(type id, state, error category, records, ingested at) rows of the day."""
    reader = index_reader(ctx)
    at = to_ms(_syncing_generation(reader, ctx).ingested_at)
    failed = _failed(reader, ctx)
    rows: list[tuple[str, str, str | None, int, int | None]] = []
    for info in object_types(ctx):
        tid = info.type_id
        synced, excluded = _synced_and_excluded(ctx, reader, info)
        rows.append((tid, "SYNCED", None, synced, at))
        rows.append((tid, "DELETED", None, reader.tombstones_before(tid, ctx.as_of), at))
        rows.append((tid, "EXCLUDED", None, excluded, at))
        by_category = failed.get(tid) or {}
        rows += [(tid, "FAILED", category, n, at) for category, n in sorted(by_category.items())]
        if not by_category:
            rows.append((tid, "FAILED", None, 0, at))
    return rows


def produce_sync_health(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    rows: list[Row] = list(health_counts(ctx))
    figures: dict[str, dict[str, int]] = {}
    for type_id, state, category, records, _ in rows:
        key = f"{state}/{category}" if category else state
        figures.setdefault(type_id, {})[key] = records
    notes = selection_notes(ctx, object_types(ctx))
    yield TableData(spec.name, spec.columns, rows, spec.primary_key, notes, {"sync_health": figures})


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
