"""Producers of EVENTS and the per-type EVENTS_<NAME> tables: the occurrences of the day.

The day's occurrences are read once (one windowed read per event-bearing type, see `sync.events`)
into the exact-day snapshot `events`, joined with what the backfill mode collected for
that day, and deduplicated by event id. Events never change, so a day's folder never repeats another's.
Events of records the sync settings leave out (types not synced, records filtered) are left out, as
the records are from OBJECTS (`crm_tables.KeptIds`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from hubspot_pipeline.store import Column, read_table
from hubspot_pipeline.sync.event_types import EventTypeInfo
from hubspot_pipeline.sync.events import EVENT_SCHEMA, event_batches, event_bearing_types
from hubspot_pipeline.sync.events_backfill import backfilled_events, covers
from hubspot_pipeline.sync.index_reader import IndexReader
from hubspot_pipeline.sync.snapshots import Snapshot
from hubspot_pipeline.sync.timestamps import iso_ms
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.crm_tables import KeptIds
from hubspot_pipeline.tables.definition_tables import account_event_types, object_types
from hubspot_pipeline.tables.export import CheckOutcome, WrittenTable
from hubspot_pipeline.tables.spec import TableData, TableSpec

PROPERTY_PREFIX = "PROPERTY_"
SELECTION_NOTE = "events of records the sync settings leave out of OBJECTS are left out"
EVENT_KEY_COLUMNS: tuple[Column, ...] = (
    Column("ID", "string"),
    Column("EVENTTYPE", "string"),
    Column("OBJECTTYPEID", "string"),
    Column("OBJECTID", "integer"),
    Column("OCCURREDAT", "timestamp"),
)


def day_events(ctx: ExportContext) -> Snapshot:
    """The day's occurrences, read from HubSpot only the first time the day is exported."""
    snap = ctx.state.load(ctx.day, "events")
    if snap is not None:
        return snap
    start = ctx.as_of - timedelta(days=1)
    types: list[str] = []
    if covers(ctx.destination, ctx.as_of):
        ctx.log.info("the events backfill already read every event of %s", ctx.day)
    else:
        infos = account_event_types(ctx)
        types = event_bearing_types(object_types(ctx), ctx.snapshot("properties").data, infos)
        ctx.log.info("reading the events of %s on %s", ", ".join(types) or "no type", ctx.day)
    fetched_at = iso_ms(datetime.now(UTC)) or ""
    reader = IndexReader(ctx.destination)
    batches = event_batches(ctx.client, types, start, ctx.as_of, lambda t: reader.as_of_ids(t, ctx.as_of))
    return ctx.state.save_rows(ctx.day, "events", EVENT_SCHEMA, batches, fetched_at)


def _occurrences(ctx: ExportContext) -> tuple[pa.Table, str, list[str]]:
    """Every known occurrence of the day of a record the export keeps, one row per event id, sorted by
    (occurred_at, id); and the notes that say what was left out."""
    snap = day_events(ctx)
    table = pa.concat_tables([snap.data, backfilled_events(ctx.destination, ctx.day)])
    if table.num_rows:
        table = table.take(pc.sort_indices(table, [("occurred_at", "ascending"), ("id", "ascending")]))
        ids = table.column("id").to_pylist()
        keep = [i == 0 or ids[i] != ids[i - 1] for i in range(len(ids))]
        table = table.filter(pa.array(keep))
    kept = KeptIds(ctx)
    if not kept.restricting:
        return table, snap.fetched_at, []
    mask = kept.mask(table.column("object_type_id").to_pylist(), table.column("object_id").to_numpy())
    return table.filter(pa.array(mask)), snap.fetched_at, [SELECTION_NOTE]


def _property_names(info: EventTypeInfo, occurrences: pa.Table) -> list[str]:
    """Custom events: their definition's properties; standard ones: what the day's occurrences carry."""
    if info.custom:
        return sorted(p["name"] for p in info.properties)
    names: set[str] = set()
    for props in occurrences.column("properties").to_pylist():
        names.update(json.loads(props))
    return sorted(names)


def events_tables(ctx: ExportContext) -> list[str]:
    """The per-type tables `produce_events` writes."""
    return [info.table_name for info in account_event_types(ctx)]


def produce_events(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    occurrences, ingested, notes = _occurrences(ctx)

    def combined() -> Iterator[tuple]:
        for row in occurrences.to_pylist():
            yield (*_key(row), json.loads(row["properties"]), ingested)

    yield TableData(spec.name, spec.columns, combined(), spec.primary_key, notes)
    for info in account_event_types(ctx):
        mine = occurrences.filter(pc.equal(occurrences.column("event_type"), info.event_type))
        names = _property_names(info, mine)
        columns = [*EVENT_KEY_COLUMNS, *(Column(PROPERTY_PREFIX + n.upper(), "string") for n in names)]
        columns.append(Column("INGESTEDAT", "timestamp"))

        def rows(mine: pa.Table = mine, names: list[str] = names) -> Iterator[tuple]:
            for row in mine.to_pylist():
                props = json.loads(row["properties"])
                yield (*_key(row), *(props.get(n) for n in names), ingested)

        yield TableData(info.table_name, columns, rows(), ("ID",), notes)


def _key(row: dict) -> tuple:
    return (row["id"], row["event_type"], row["object_type_id"], row["object_id"], row["occurred_at"])


def check_occurred_within_day(ctx: ExportContext, written: list[WrittenTable]) -> CheckOutcome:
    """Every OCCURREDAT written for the day falls within the day (read back from the combined table)."""
    times = read_table(ctx.destination, ctx.day.isoformat(), "EVENTS").column("OCCURREDAT")
    start, end = iso_ms(ctx.as_of - timedelta(days=1)), iso_ms(ctx.as_of)
    outside = pc.sum(pc.or_(pc.less(times, start), pc.greater_equal(times, end))).as_py() or 0
    return CheckOutcome(
        "occurred_within_day",
        outside == 0,
        f"every OCCURREDAT is within {ctx.day}",
        {"events": len(times), "outside_the_day": outside},
    )
