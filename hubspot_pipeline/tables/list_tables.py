"""Producers of LISTS and LIST_MEMBERSHIPS, as of the end of the day.

Lists created after the day and memberships added after it are left out. HubSpot keeps no dated record
of removals, so a record removed from a list after the day is missing from that day too: removals are
taken as current, and the manifests say so. Memberships of records the sync settings leave out of
OBJECTS (types not synced, records filtered) are left out too (`crm_tables.KeptIds`); LISTS still
describes every list, and its SIZE counts every membership as of the day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hubspot_pipeline.sync.timestamps import iso_ms
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.crm_tables import KeptIds
from hubspot_pipeline.tables.definition_tables import borrowed_notes
from hubspot_pipeline.tables.spec import TableData, TableSpec

REMOVALS_NOTE = "list membership removals cannot be dated by HubSpot's API: removals are taken as current"
SELECTION_NOTE = (
    "memberships of records the sync settings leave out of OBJECTS are left out (LISTS.SIZE counts them)"
)


def _lists_as_of(ctx: ExportContext) -> list[dict]:
    return [item for item in ctx.snapshot("lists").data if ctx.created_by_day_end(item.get("createdAt"))]


def _memberships_as_of(ctx: ExportContext) -> pa.Table:
    """Membership rows (list_id, record_id, added_at) of lists that existed, added before the day ended."""
    table: pa.Table = ctx.snapshot("list_memberships").data
    live = pa.array([str(item["listId"]) for item in _lists_as_of(ctx)], pa.string())
    # membership timestamps are ISO ms Z, so text order is time order
    added = pc.less(table.column("added_at"), iso_ms(ctx.as_of))
    return table.filter(pc.and_(pc.is_in(table.column("list_id"), live), added))


def produce_lists(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    ingested = ctx.snapshot("lists").fetched_at
    sizes = Counter(_memberships_as_of(ctx).column("list_id").to_pylist())
    rows = (
        (
            int(item["listId"]),
            item.get("name"),
            item.get("processingType"),
            item.get("objectTypeId"),
            sizes.get(str(item["listId"]), 0),
            item.get("processingStatus"),
            iso_ms(item.get("createdAt")),
            iso_ms(item.get("updatedAt")),
            ingested,
        )
        for item in _lists_as_of(ctx)
    )
    notes = [*borrowed_notes(ctx, "lists", "list_memberships"), "SIZE counts the memberships as of the day"]
    yield TableData(spec.name, spec.columns, rows, spec.primary_key, [*notes, REMOVALS_NOTE])


def produce_list_memberships(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    ingested = ctx.snapshot("list_memberships").fetched_at
    types = {str(item["listId"]): item.get("objectTypeId") for item in _lists_as_of(ctx)}
    kept = KeptIds(ctx)

    def rows() -> Iterator[tuple]:
        for batch in _memberships_as_of(ctx).to_batches(max_chunksize=50_000):
            list_ids, record_ids, added = (batch.column(i).to_pylist() for i in range(3))
            keep = (
                kept.mask([types[i] for i in list_ids], np.array(record_ids, dtype=np.int64))
                if kept.restricting
                else np.ones(len(list_ids), dtype=bool)
            )
            for list_id, record_id, added_at, wanted in zip(list_ids, record_ids, added, keep, strict=True):
                if wanted:
                    yield (int(list_id), types[list_id], record_id, iso_ms(added_at), ingested)

    notes = [*borrowed_notes(ctx, "lists", "list_memberships"), REMOVALS_NOTE]
    if kept.restricting:
        notes.append(SELECTION_NOTE)
    yield TableData(spec.name, spec.columns, rows(), spec.primary_key, notes)
