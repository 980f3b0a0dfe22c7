"""The CRM tables: projections of the CRM index (`sync.index`) as of the end of the partition's day.

OBJECTS (+ OBJECTS_<PLURAL>), OBJECT_WITH_OBJECT_PROPERTIES, OBJECT_PROPERTIES,
OBJECT_PROPERTIES_HISTORY and ASSOCIATIONS (+ ASSOCIATIONS_<FROM>_TO_<TO>) read no API: the state as
of the day comes from `IndexReader` (records created by the day's end and not archived before it,
each property's value from its history, history up to the day). Rows stream as Arrow record batches
in the table's column order, one per batch of record ids, types in definition order, ids ascending,
properties by name: the same order every run, and no per-row Python between the index and the CSV
(OBJECTS_<PLURAL>'s property columns are scattered with numpy, OBJECT_WITH_OBJECT_PROPERTIES' JSON is
built with Arrow string kernels, escaped exactly as `json.dumps` does).

Property columns and values cover the type's property definitions as of the day (archived ones
excluded), narrowed by the sync settings (`ctx.selection`, see `sync.selection`): types that do not
sync are left out, excluded properties are not written, renamed ones are written under their new name
everywhere, and records the filter rejects as of the day leave every CRM table (`selected_batches`
and `KeptIds` are the one place this happens). Values are written exactly as the API returned them. Associations are HubSpot's current
state as of the last sync (the API cannot date their removals), restricted to pairs of records that
exist in OBJECTS of the day; their manifests say so.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hubspot_pipeline.store import Column
from hubspot_pipeline.sync.definitions import export_types, known_types
from hubspot_pipeline.sync.index import TIMESTAMP
from hubspot_pipeline.sync.index_reader import AsOfBatch, IndexReader
from hubspot_pipeline.sync.object_types import ObjectTypeInfo
from hubspot_pipeline.sync.other_objects import ExportReader, OtherObjects
from hubspot_pipeline.sync.other_types import OTHER_BY_ID
from hubspot_pipeline.sync.timestamps import iso_ms
from hubspot_pipeline.sync.type_access import Unavailable
from hubspot_pipeline.tables import definition_tables
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.definition_tables import is_primary, object_type_name
from hubspot_pipeline.tables.export import CheckOutcome, WrittenTable, read_parts, row_hashes
from hubspot_pipeline.tables.spec import TableData, TableSpec

PROPERTY_PREFIX = "PROPERTY_"


ASSOCIATIONS_NOTE = (
    "associations are HubSpot's current state as of the index's last sync ({watermark}): the API cannot "
    "date association changes, so links removed after this day are missing and links added after it "
    "appear whenever both records exist in OBJECTS of this day"
)


class IndexBehindError(RuntimeError):
    """A CRM table was asked for a day the index has not been synced past."""


# -- what the day has ------------------------------------------------------------------------------


def check_selection(ctx: ExportContext) -> None:
    """Fail (SyncSettingsError) before anything is written when the sync settings name a type or
    property the account does not have; checked against the whole snapshot, so a backfilled day
    accepts a property created after it."""
    if not ctx.selection.selects_everything:
        definitions, schemas = ctx.snapshot("properties").data, ctx.snapshot("schemas").data
        ctx.selection.check(export_types(schemas, definitions), definitions, known_types(schemas))


def object_types(ctx: ExportContext) -> list[ObjectTypeInfo]:
    """The object types of the day that the CRM tables and SYNC_HEALTH cover: those the settings sync."""
    check_selection(ctx)
    return [t for t in definition_tables.object_types(ctx) if ctx.selection.syncs(t)]


def unavailable_types(ctx: ExportContext) -> list[tuple[ObjectTypeInfo, Unavailable]]:
    """The types the settings would sync that the token cannot (not activated, a scope missing)."""
    return [(t, why) for t, why in definition_tables.unavailable_types(ctx) if ctx.selection.syncs(t)]


def _definition_names(ctx: ExportContext, info: ObjectTypeInfo) -> list[str]:
    """The type's property definitions as of the day, archived ones excluded, sorted by name."""
    definitions = ctx.snapshot("properties").data.get(info.type_id, [])
    return sorted(
        p["name"] for p in definitions if not p.get("archived") and ctx.created_by_day_end(p.get("createdAt"))
    )


def property_names(ctx: ExportContext, info: ObjectTypeInfo) -> list[str]:
    """The exported properties of the type as of the day, under their exported (renamed) names, sorted."""
    selection = ctx.selection
    exported = selection.exported(info, _definition_names(ctx, info))
    return sorted(selection.column_name(info, n) for n in exported)


def selection_notes(ctx: ExportContext, types: Sequence[ObjectTypeInfo]) -> list[str]:
    """Manifest notes on what the sync settings changed for `types`, and which types they leave out."""
    notes = [n for info in types for n in ctx.selection.notes(info, _definition_names(ctx, info))]
    skipped = [t for t in definition_tables.object_types(ctx) if not ctx.selection.syncs(t)]
    if skipped:
        names = ", ".join(f"{t.name} ({t.type_id})" for t in skipped)
        notes.append(f"object types not synced (sync settings): {names}")
    missing = unavailable_types(ctx)
    if missing:
        reasons = "; ".join(f"{t.name} ({t.type_id}) {why.category}: {why.how_to_fix}" for t, why in missing)
        notes.append(f"object types HubSpot does not serve to this token, not synced: {reasons}")
    return notes


def other_type_notes(types: Sequence[ObjectTypeInfo]) -> list[str]:
    """What the tables of the types read outside the objects API (`sync.other_types`) differ in."""
    other = [t for t in types if t.type_id in OTHER_BY_ID]
    if not other:
        return []
    names = ", ".join(f"{t.name} ({t.type_id})" for t in other)
    return [
        f"{names}: read from their own HubSpot APIs, which serve no property history; each value is as of "
        "the day's read (a day backfilled before the first read takes the values of the earliest later "
        "one), and its history row is that value at the record's updatedAt. Fields are properties of "
        "their API names; fields not listed are kept as JSON in additional_fields; a UUID id's OBJECTID "
        "is its first 63 bits (the UUID is the id property)"
    ]


def object_columns(spec: TableSpec, names: Sequence[str]) -> list[Column]:
    """OBJECTS_<PLURAL>: the shared columns, then PROPERTY_<NAME> per property (names sorted)."""
    return [*spec.columns, *(Column(PROPERTY_PREFIX + n.upper(), "string") for n in names)]


def _shared_columns(type_id: str, records: pa.Table) -> list[pa.Array]:
    """OBJECTTYPEID, OBJECTID, CREATEDAT, UPDATEDAT, INGESTEDAT per record (timestamps as the index
    holds them; the store writes them as ISO with milliseconds)."""
    return [
        pa.repeat(type_id, records.num_rows),
        *(_array(records, c) for c in ("object_id", "created_at", "updated_at", "ingested_at")),
    ]


def _array(table: pa.Table, column: str) -> pa.Array:
    return table.column(column).combine_chunks()


def _batch(columns: Sequence[Column], arrays: Sequence[pa.Array]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(list(arrays), names=[c.name for c in columns])


def _known(values: pa.Table, names: Sequence[str]) -> pa.Table:
    """Values of the listed properties only, nulls left out."""
    keep = pc.and_(
        pc.is_in(values.column("name"), value_set=pa.array(names, pa.string())),
        pc.is_valid(values.column("value")),
    )
    return values.filter(keep)


def _record_positions(records: pa.Table, object_ids: pa.ChunkedArray) -> np.ndarray:
    """Row of each object id in `records` (sorted by object_id, every id present)."""
    return np.searchsorted(records.column("object_id").to_numpy(), object_ids.to_numpy())


def index_reader(ctx: ExportContext) -> IndexReader:
    """The index, which must be synced past the day: a stale one would silently miss its changes."""
    reader = ExportReader(ctx.destination, OtherObjects(lambda: ctx.snapshot("other_objects").data))
    if not reader.manifest.synced_past(ctx.as_of):
        mark = iso_ms(reader.manifest.watermark) or "never"
        raise IndexBehindError(
            f"the CRM index is synced up to {mark}, before the end of {ctx.day}: materialise "
            f"hubspot/crm_index for {ctx.day} first"
        )
    return reader


# -- the sync settings applied to records: the one place -----------------------------------------


def selected_batches(
    ctx: ExportContext,
    reader: IndexReader,
    info: ObjectTypeInfo,
    *,
    values: bool = False,
    history: bool = False,
) -> Iterator[AsOfBatch]:
    """The type's records as of the day that the sync settings keep, batch by batch, with property
    names renamed in `values` and `history`. The record filter reads the values as of the day, so they
    are read whenever the type has one (and dropped again when the caller did not ask for them)."""
    selection = ctx.selection
    filtered = selection.filters(info)
    renames = selection.renames(info)
    for batch in reader.as_of_batches(info.type_id, ctx.as_of, values=values or filtered, history=history):
        if filtered:
            batch = _only(batch, selection.keep(info, batch))
            if batch.records.num_rows == 0:
                continue
        yield AsOfBatch(
            batch.records,
            _renamed(batch.values, renames, ("object_id", "name")) if values else None,
            _renamed(batch.history, renames, ("object_id", "name", "timestamp")),
        )


def _only(batch: AsOfBatch, keep: np.ndarray) -> AsOfBatch:
    """The batch restricted to the records where `keep` is true."""
    records = batch.records.filter(pa.array(keep))
    ids = records.column("object_id").to_numpy()

    def rows(table: pa.Table | None) -> pa.Table | None:
        if table is None:
            return None
        return table.filter(pa.array(_member(table.column("object_id").to_numpy(), ids)))

    return AsOfBatch(records, rows(batch.values), rows(batch.history))


def _renamed(table: pa.Table | None, renames: dict[str, str], order: tuple[str, ...]) -> pa.Table | None:
    """`name` mapped through the renames, rows re-sorted by `order` (stable: entries of one property at
    one millisecond keep their stored order, which makes the newest last)."""
    if table is None or not renames:
        return table
    position = pc.index_in(table.column("name"), value_set=pa.array(list(renames), pa.string()))
    new = pc.take(pa.array(list(renames.values()), pa.string()), position)
    table = table.set_column(
        table.schema.get_field_index("name"), "name", pc.coalesce(new, table.column("name"))
    )
    return table.take(pc.sort_indices(table, [(c, "ascending") for c in order]))


def kept_ids(ctx: ExportContext, reader: IndexReader, info: ObjectTypeInfo) -> np.ndarray:
    """Sorted ids of the type's records as of the day that the export keeps (none of a type that
    does not sync)."""
    if not ctx.selection.syncs(info):
        return np.array([], dtype=np.int64)
    if not ctx.selection.filters(info):
        return reader.as_of_ids(info.type_id, ctx.as_of)
    found = [b.records.column("object_id").to_numpy() for b in selected_batches(ctx, reader, info)]
    return np.concatenate(found) if found else np.array([], dtype=np.int64)


class KeptIds:
    """`kept_ids` per type id, computed once per type; the index is opened only for a type whose
    records the settings restrict (lists and events need no index otherwise)."""

    def __init__(self, ctx: ExportContext, reader: IndexReader | None = None) -> None:
        self._ctx, self._reader, self._ids = ctx, reader, dict[str, np.ndarray]()
        self._types: dict[str, ObjectTypeInfo] = {}
        if not ctx.selection.selects_everything:
            check_selection(ctx)
            self._types = {t.type_id: t for t in definition_tables.object_types(ctx)}

    @property
    def restricting(self) -> bool:
        """Whether the settings leave out records of any type (else every row is kept)."""
        return any(self._ctx.selection.restricts(t) for t in self._types.values())

    def restricts(self, type_id: str) -> bool:
        info = self._types.get(type_id)
        return info is not None and self._ctx.selection.restricts(info)

    def __call__(self, type_id: str) -> np.ndarray:
        if type_id not in self._ids:
            if self._reader is None:
                self._reader = index_reader(self._ctx)
            info = self._types.get(type_id)
            self._ids[type_id] = (
                kept_ids(self._ctx, self._reader, info)
                if info is not None
                else self._reader.as_of_ids(type_id, self._ctx.as_of)
            )
        return self._ids[type_id]

    def mask(self, type_ids: Sequence[str | None], object_ids: np.ndarray) -> np.ndarray:
        """Per row (type id, object id), whether the export keeps that record: rows of a type the
        settings do not restrict are all kept."""
        keep = np.ones(len(object_ids), dtype=bool)
        kinds = np.array(type_ids, dtype=object)
        for type_id in set(type_ids):
            if type_id is not None and self.restricts(type_id):
                rows = kinds == type_id
                keep[rows] = _member(object_ids[rows], self(type_id))
        return keep


# the arrays of one table's batch, from a batch of records as of the day and the type's property names
Arrays = Callable[[ObjectTypeInfo, list[str], AsOfBatch], list[pa.Array]]


def _batches(
    ctx: ExportContext,
    reader: IndexReader,
    types: Sequence[ObjectTypeInfo],
    columns: Sequence[Column],
    make: Arrays,
    **wanted: bool,
) -> Iterator[pa.RecordBatch]:
    """A table's batches, type by type and batch by batch of the records the export keeps as of the day."""
    for info in types:
        names = property_names(ctx, info)
        for batch in selected_batches(ctx, reader, info, **wanted):
            yield _batch(columns, make(info, names, batch))


# -- OBJECTS and OBJECTS_<PLURAL> ------------------------------------------------------------------


def objects_table(info: ObjectTypeInfo) -> str:
    return f"OBJECTS_{info.table_suffix}"


def objects_tables(ctx: ExportContext) -> list[str]:
    """The per-type tables `produce_objects` writes."""
    return [objects_table(info) for info in object_types(ctx)]


def produce_objects(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    reader, types = index_reader(ctx), object_types(ctx)
    batches = _batches(ctx, reader, types, spec.columns, _object_arrays)
    notes = [*selection_notes(ctx, types), *other_type_notes(types)]
    yield TableData(spec.name, spec.columns, batches, spec.primary_key, notes)
    for info in types:
        columns = object_columns(spec, property_names(ctx, info))
        yield TableData(
            objects_table(info),
            columns,
            _batches(ctx, reader, [info], columns, _wide_arrays, values=True),
            spec.primary_key,
            [*ctx.selection.notes(info, _definition_names(ctx, info)), *other_type_notes([info])],
        )


def _object_arrays(info: ObjectTypeInfo, names: list[str], batch: AsOfBatch) -> list[pa.Array]:
    return _shared_columns(info.type_id, batch.records)


def _wide_arrays(info: ObjectTypeInfo, names: list[str], batch: AsOfBatch) -> list[pa.Array]:
    """The shared columns, then per property its value as of the day (or NULL), each value scattered
    to its record's row."""
    assert batch.values is not None
    values = _known(batch.values, names)
    rows = _record_positions(batch.records, values.column("object_id"))
    cols = pc.index_in(values.column("name"), value_set=pa.array(names, pa.string()))
    cols = cols.to_numpy(zero_copy_only=False).astype(np.int64)
    by_column = np.argsort(cols, kind="stable")  # each property's values, in record order
    bounds = np.searchsorted(cols[by_column], np.arange(len(names) + 1))
    value = _array(values, "value")
    n = batch.records.num_rows
    return [
        *_shared_columns(info.type_id, batch.records),
        *(_scatter(value, rows, by_column[a:b], n) for a, b in itertools.pairwise(bounds)),
    ]


def _scatter(values: pa.Array, rows: np.ndarray, picked: np.ndarray, n: int) -> pa.Array:
    """An n-row column holding `values[i]` at row `rows[i]` for each i in `picked`, NULL elsewhere."""
    at = np.full(n, -1, dtype=np.int64)
    at[rows[picked]] = picked
    return values.take(pa.array(at, mask=at < 0))


# -- OBJECT_WITH_OBJECT_PROPERTIES ---------------------------------------------------------------

# What json.dumps(..., ensure_ascii=False) escapes, in the order to apply it: the backslash first, so
# the backslashes the other escapes add are not escaped again.
_JSON_ESCAPES = tuple((c, json.dumps(c)[1:-1]) for c in ["\\", '"', *map(chr, range(0x20))])
_NEEDS_ESCAPE = r'[\x00-\x1f"\\]'


def produce_object_with_properties(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    types = object_types(ctx)
    batches = _batches(ctx, index_reader(ctx), types, spec.columns, _json_arrays, values=True)
    yield TableData(spec.name, spec.columns, batches, spec.primary_key, selection_notes(ctx, types))


def _json_arrays(info: ObjectTypeInfo, names: list[str], batch: AsOfBatch) -> list[pa.Array]:
    assert batch.values is not None
    values = _known(batch.values, names)
    rows = _record_positions(batch.records, values.column("object_id"))
    # values are sorted by (record, name), so each object lists its properties in name order
    properties = json_objects(batch.records.num_rows, rows, _array(values, "name"), _array(values, "value"))
    return [*_shared_columns(info.type_id, batch.records), properties]


def json_objects(n: int, rows: np.ndarray, keys: pa.Array, values: pa.Array) -> pa.Array:
    """Per row 0..n-1 the JSON object of the (key, value) strings at that row (`rows` ascending), in
    their order, exactly as `json.dumps(obj, separators=(",", ":"), ensure_ascii=False)` writes it;
    `{}` for a row without any."""
    pairs = pc.binary_join_element_wise('"', json_escape(keys), '":"', json_escape(values), '"', "")
    offsets = pa.array(np.searchsorted(rows, np.arange(n + 1)).astype(np.int32))
    members = pc.binary_join(pa.ListArray.from_arrays(offsets, pairs), ",")
    return pc.binary_join_element_wise("{", members, "}", "")


def json_escape(text: pa.Array) -> pa.Array:
    """Each string as the inside of a JSON string literal; only the strings that need it are rewritten."""
    needs = pc.match_substring_regex(text, _NEEDS_ESCAPE)
    if not pc.any(needs).as_py():
        return text
    escaped = text.filter(needs)
    for char, escape in _JSON_ESCAPES:
        escaped = pc.replace_substring(escaped, char, escape)
    return pc.replace_with_mask(text, needs, escaped)


# -- OBJECT_PROPERTIES -----------------------------------------------------------------------------


def produce_object_properties(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    types = object_types(ctx)
    batches = _batches(ctx, index_reader(ctx), types, spec.columns, _value_arrays, values=True)
    yield TableData(spec.name, spec.columns, batches, spec.primary_key, selection_notes(ctx, types))


def _value_arrays(info: ObjectTypeInfo, names: list[str], batch: AsOfBatch) -> list[pa.Array]:
    assert batch.values is not None
    return _long_arrays(info, names, batch, batch.values, ())


# -- OBJECT_PROPERTIES_HISTORY ---------------------------------------------------------------------


def produce_object_properties_history(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    types = object_types(ctx)
    batches = _batches(ctx, index_reader(ctx), types, spec.columns, _history_arrays, history=True)
    yield TableData(spec.name, spec.columns, batches, spec.primary_key, selection_notes(ctx, types))


def _history_arrays(info: ObjectTypeInfo, names: list[str], batch: AsOfBatch) -> list[pa.Array]:
    assert batch.history is not None
    return _long_arrays(info, names, batch, batch.history, ("source_type", "source_id", "updated_by_user_id"))


def _long_arrays(
    info: ObjectTypeInfo, names: list[str], batch: AsOfBatch, table: pa.Table, extra: tuple[str, ...]
) -> list[pa.Array]:
    """One row per (record, property, value): the shared columns of OBJECT_PROPERTIES and its history."""
    table = _known(table, names)
    positions = _record_positions(batch.records, table.column("object_id"))
    return [
        pa.repeat(info.type_id, table.num_rows),
        *(_array(table, c) for c in ("object_id", "name", "value", "timestamp")),
        _array(batch.records, "ingested_at").take(pa.array(positions)),
        *(_array(table, c) for c in extra),
    ]


# -- ASSOCIATIONS and ASSOCIATIONS_<FROM>_TO_<TO> ---------------------------------------------------


def pair_columns(src: ObjectTypeInfo, dst: ObjectTypeInfo, ingested: Column) -> list[Column]:
    """<FROM_SINGULAR>_OBJECTID, <TO_SINGULAR>_OBJECTID, ...; a pair of one type prefixes FROM_/TO_."""
    from_name, to_name = object_type_name(src), object_type_name(dst)
    if from_name == to_name:
        from_name, to_name = f"FROM_{from_name}", f"TO_{to_name}"
    return [
        Column(f"{from_name}_OBJECTID", "integer"),
        Column(f"{to_name}_OBJECTID", "integer"),
        Column("ASSOCIATIONTYPEID", "integer"),
        Column("CATEGORY", "string"),
        Column("LABEL", "string"),
        Column("ISPRIMARY", "boolean"),
        ingested,
    ]


def _member(values: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    if len(sorted_ids) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.clip(np.searchsorted(sorted_ids, values), 0, len(sorted_ids) - 1)
    return sorted_ids[at] == values


def _pair_rows(reader: IndexReader, live: KeptIds, from_type: str, to_type: str) -> Iterator[pa.RecordBatch]:
    """The pair's association batches, restricted to records the export keeps as of the day."""
    for batch in reader.association_batches(from_type, to_type):
        keep = _member(batch.column("from_id").to_numpy(), live(from_type)) & _member(
            batch.column("to_id").to_numpy(), live(to_type)
        )
        yield batch.filter(pa.array(keep))


def _primary(category: pa.Array, label: pa.Array) -> pa.Array:
    """ISPRIMARY per row, `is_primary` evaluated once per distinct (category, label)."""
    categories, category_codes = _codes(category)
    labels, label_codes = _codes(label)
    width = len(labels)
    pairs, row_pair = np.unique(category_codes * width + label_codes, return_inverse=True)
    flags = [is_primary(categories[p // width], labels[p % width]) for p in pairs.tolist()]
    return pa.array(np.array(flags, dtype=bool)[row_pair])


def _codes(values: pa.Array) -> tuple[list[str | None], np.ndarray]:
    """The distinct values (None last) and each row's position among them."""
    encoded = pc.dictionary_encode(values)
    distinct = [*encoded.dictionary.to_pylist(), None]
    return distinct, encoded.indices.fill_null(len(distinct) - 1).to_numpy().astype(np.int64)


def association_table(src: ObjectTypeInfo, dst: ObjectTypeInfo) -> str:
    return f"ASSOCIATIONS_{src.table_suffix}_TO_{dst.table_suffix}"


def _pairs(
    ctx: ExportContext, reader: IndexReader
) -> tuple[dict[str, ObjectTypeInfo], list[tuple[str, str]]]:
    """The exported types by id, and the pairs of them the index holds associations of."""
    types = {t.type_id: t for t in object_types(ctx)}
    return types, [(f, t) for f, t in reader.manifest.pairs() if f in types and t in types]


def associations_tables(ctx: ExportContext) -> list[str]:
    """The per-pair tables `produce_associations` writes."""
    types, pairs = _pairs(ctx, index_reader(ctx))
    return [association_table(types[f], types[t]) for f, t in pairs]


def produce_associations(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    reader = index_reader(ctx)
    types, pairs = _pairs(ctx, reader)
    live = KeptIds(ctx, reader)
    notes = [
        ASSOCIATIONS_NOTE.format(watermark=iso_ms(reader.manifest.watermark) or "never"),
        *selection_notes(ctx, list(types.values())),
    ]

    def combined() -> Iterator[pa.RecordBatch]:
        for from_type, to_type in pairs:
            for batch in _pair_rows(reader, live, from_type, to_type):
                n = batch.num_rows
                yield _batch(
                    spec.columns,
                    [
                        pa.repeat(from_type, n),
                        batch.column("from_id"),
                        pa.repeat(to_type, n),
                        *(batch.column(c) for c in ("to_id", "type_id", "category", "label", "ingested_at")),
                    ],
                )

    def per_pair(from_type: str, to_type: str, columns: list[Column]) -> Iterator[pa.RecordBatch]:
        for batch in _pair_rows(reader, live, from_type, to_type):
            yield _batch(
                columns,
                [
                    *(batch.column(c) for c in ("from_id", "to_id", "type_id", "category", "label")),
                    _primary(batch.column("category"), batch.column("label")),
                    batch.column("ingested_at"),
                ],
            )

    yield TableData(spec.name, spec.columns, combined(), spec.primary_key, notes)
    for from_type, to_type in pairs:
        src, dst = types[from_type], types[to_type]
        columns = pair_columns(src, dst, spec.columns[-1])
        yield TableData(
            association_table(src, dst),
            columns,
            per_pair(from_type, to_type, columns),
            (columns[0].name, columns[1].name, columns[2].name),
            notes,
        )


# -- checks ------------------------------------------------------------------------------------------


def check_per_type_counts(ctx: ExportContext, written: list[WrittenTable]) -> CheckOutcome:
    """The per-type tables (OBJECTS_<PLURAL>) hold exactly as many rows as the combined OBJECTS."""
    combined, per_type = written[0].result, {w.result.table: w.result.rows for w in written[1:]}
    return CheckOutcome(
        "per_type_counts_add_up",
        combined.rows == sum(per_type.values()),
        "the OBJECTS_<PLURAL> row counts add up to the OBJECTS row count",
        {"objects": combined.rows, "per_type": per_type},
    )


def check_values_match_history(ctx: ExportContext, written: list[WrittenTable]) -> CheckOutcome:
    """OBJECT_PROPERTIES, read back from the store, equals the latest history entry at or before the day.

    The expected rows are recomputed from the index by grouping (not by the producer's sorted scan)
    and compared with the written CSV as per-type multisets (row counts and sums of 64-bit row hashes),
    so a dropped, duplicated, mangled or stale value fails the check.
    """
    table = written[0].result.table
    expected: dict[str, tuple[int, int]] = {}
    reader = index_reader(ctx)
    for info in object_types(ctx):
        names = property_names(ctx, info)
        for batch in selected_batches(ctx, reader, info, history=True):
            assert batch.history is not None
            _add_hashes(expected, info.type_id, _latest_by_grouping(_known(batch.history, names)))
    actual: dict[str, tuple[int, int]] = {}
    for batch in read_parts(ctx, table):
        for type_id in pc.unique(batch.column("OBJECTTYPEID")).to_pylist():
            rows = batch.filter(pc.equal(batch.column("OBJECTTYPEID"), type_id))
            _add_hashes(
                actual,
                type_id,
                pa.table(
                    {
                        "object_id": rows.column("OBJECTID").cast(pa.int64()),
                        "name": rows.column("NAME"),
                        "value": rows.column("VALUE"),
                        "timestamp": rows.column("UPDATEDAT").cast(TIMESTAMP),
                    }
                ),
            )
    differing = sorted(
        t for t in set(expected) | set(actual) if expected.get(t, (0, 0)) != actual.get(t, (0, 0))
    )
    return CheckOutcome(
        "values_match_history",
        not differing,
        "every OBJECT_PROPERTIES value (and its UPDATEDAT) is the latest history entry at or before the day",
        {
            "rows_expected": sum(n for n, _ in expected.values()),
            "rows_written": sum(n for n, _ in actual.values()),
            "types_differing": differing,
        },
    )


def _latest_by_grouping(history: pa.Table) -> pa.Table:
    """Per (record, property) the history row with the greatest (timestamp, stored position)."""
    numbered = history.append_column("_pos", pa.array(np.arange(history.num_rows, dtype=np.int64)))
    latest = numbered.group_by(["object_id", "name"]).aggregate([("_pos", "max")]).column("_pos_max")
    return history.take(latest).select(["object_id", "name", "value", "timestamp"])


def _add_hashes(into: dict[str, tuple[int, int]], type_id: str, rows: pa.Table) -> None:
    digest = int(row_hashes(rows).sum(dtype=np.uint64))
    count, total = into.get(type_id, (0, 0))
    into[type_id] = (count + rows.num_rows, (total + digest) % (1 << 64))
