"""SYNC_HEALTH: per object type, how many records the index holds for the day, by state.

- SYNCED: records that exist as of the day (the OBJECTS rows of the type);
- DELETED: tombstones, records archived or merged away before the end of the day;
- EXCLUDED: records the sync settings filtered out (stats of the generation that synced the day);
- FAILED: records the sync could not read, per error category (207 batch errors other than
  "not found"); a failed page fails the whole run instead, leaving the index as it was.
FAILED and EXCLUDED come from the generation that synced the day: the earliest at or past its end.
"""

from __future__ import annotations

from collections.abc import Iterator

from hubspot_pipeline.sync.index import Generation, to_ms
from hubspot_pipeline.sync.index_reader import IndexReader
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.crm_tables import _reader, object_types
from hubspot_pipeline.tables.export import CheckOutcome, WrittenTable
from hubspot_pipeline.tables.spec import Row, TableData, TableSpec


def _syncing_generation(reader: IndexReader, ctx: ExportContext) -> Generation:
    generations = reader.manifest.generations
    return next((g for g in generations if g.watermark_at >= ctx.as_of), generations[-1])


def health_counts(ctx: ExportContext) -> list[tuple[str, str, str | None, int, int | None]]:
    """(type id, state, error category, records, ingested at) rows of the day."""
    reader = _reader(ctx)
    generation = _syncing_generation(reader, ctx)
    per_type = generation.stats.get("types") or {}
    rows: list[tuple[str, str, str | None, int, int | None]] = []
    at = to_ms(generation.ingested_at)
    for info in object_types(ctx):
        tid = info.type_id
        stats = per_type.get(tid, {}) if isinstance(per_type, dict) else {}
        rows.append((tid, "SYNCED", None, len(reader.as_of_ids(tid, ctx.as_of)), at))
        rows.append((tid, "DELETED", None, reader.tombstones_before(tid, ctx.as_of), at))
        rows.append((tid, "EXCLUDED", None, int(stats.get("excluded", 0)), at))
        failed = stats.get("failed") or {}
        rows += [(tid, "FAILED", category, int(n), at) for category, n in sorted(failed.items())]
        if not failed:
            rows.append((tid, "FAILED", None, 0, at))
    return rows


def produce_sync_health(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    rows: list[Row] = list(health_counts(ctx))
    yield TableData(spec.name, spec.columns, rows, spec.primary_key)


def check_no_failed_records(ctx: ExportContext, written: list[WrittenTable]) -> CheckOutcome:
    failed = {
        f"{tid}/{category}": n for tid, state, category, n, _ in health_counts(ctx) if state == "FAILED" and n
    }
    return CheckOutcome(
        "no_failed_records",
        not failed,
        "no record of the day failed to sync (SYNC_HEALTH FAILED rows are all zero)",
        {"failed": failed},
    )
