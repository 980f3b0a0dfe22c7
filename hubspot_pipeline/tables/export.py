"""Write one table of one day to the store, evaluate its checks, then publish it.

A table is published only after its blocking checks pass (DESIGN section 5), so a failing day never
replaces the good run before it:
1. the table is written as parts of this run with its manifest held back (`TableWriter(staged=True)`);
2. its checks are evaluated: key uniqueness and the values references use while the chunks stream
   past (a table is read once), the rest afterwards against a view of the store in which the staged
   table is already published, so a check that reads the table back reads the new parts;
3. every blocking check passed: the manifest is written and its earlier runs' parts deleted; else (or
   on any error) the new parts are deleted and the table stays exactly as it was.

Each table (the combined OBJECTS and each OBJECTS_<PLURAL>) is its own Dagster asset and is published
on its own checks (`export_table`, called by the IO manager in `defs.table_io`); `export_spec` runs a
whole spec the same way outside Dagster. Every table also has `columns_unchanged`, an alert on a
column gone or retyped since the day before.

Checks are vectorised: a chunk of row tuples or an Arrow batch becomes Arrow key columns, hashed or
deduplicated in Arrow and numpy; memory holds a batch plus 8 bytes a row (key hashes) and the
distinct values a reference uses.
"""

from __future__ import annotations

import builtins
import copy
import io
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, BinaryIO, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from hubspot_pipeline.store import Column, Destination, ObjectInfo, TableResult, TableWriter, read_manifest
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.spec import Chunk, Reference, TableData, TableSpec

EXAMPLES = 5  # duplicate keys or dangling references a failed check names
COLUMNS_CHECK = "columns_unchanged"  # the schema-change alert every table has
# distinct reference values gathered before they are deduplicated again
_COMPACT_ROWS = 1_000_000
_FNV_PRIME = np.uint64(0x100000001B3)


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)
    blocking: bool = True  # a failure keeps the tables unpublished


@dataclass
class WrittenTable:
    result: TableResult
    notes: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)
    columns: Sequence[Column] = ()


@dataclass
class TableExport:
    """One table of one day: what was written, its checks, and whether it was published."""

    spec: TableSpec
    table: WrittenTable
    checks: list[CheckOutcome]
    published: bool
    api_calls: int  # the step's calls to HubSpot so far

    @property
    def combined(self) -> bool:
        """Whether this is the spec's own table (OBJECTS), not one of its per-type tables."""
        return self.table.result.table == self.spec.name

    @property
    def failed(self) -> list[CheckOutcome]:
        """The blocking checks that failed (why the table was not published)."""
        return [c for c in self.checks if c.blocking and not c.passed]


@dataclass
class ExportOutcome:
    """Every table of a spec for one day (the combined table first), and the checks that span them."""

    spec: TableSpec
    exports: list[TableExport]
    # evaluated after the per-type tables were written (`CustomCheck.after_per_type`): alerts
    spanning: list[CheckOutcome] = field(default_factory=list)

    @property
    def tables(self) -> list[WrittenTable]:
        return [e.table for e in self.exports]

    @property
    def main(self) -> WrittenTable:
        return self.tables[0]

    @property
    def checks(self) -> list[CheckOutcome]:
        return [c for e in self.exports for c in e.checks] + self.spanning

    @property
    def published(self) -> bool:
        return all(e.published for e in self.exports)

    @property
    def failed(self) -> list[CheckOutcome]:
        return [c for e in self.exports for c in e.failed]

    @property
    def api_calls(self) -> int:
        return self.exports[-1].api_calls if self.exports else 0


# -- vectorised helpers shared by the checks ------------------------------------------------------------


def row_hashes(table: pa.Table) -> np.ndarray:
    """A 64-bit hash per row of all of the table's columns (NULL hashes apart from every value)."""
    hashes = np.zeros(table.num_rows, dtype=np.uint64)
    for column in table.columns:
        # per column pandas' 64-bit hash; combined FNV-style (wrapping), so column order matters
        hashes = hashes * _FNV_PRIME ^ pd.util.hash_array(_hashable(column))
    return hashes


def _hashable(column: pa.ChunkedArray) -> Any:
    """Integers and timestamps as int64 (a masked array when NULLs occur), everything else as Arrow
    strings, which pandas hashes by dictionary-encoding them in Arrow."""
    if pa.types.is_integer(column.type) or pa.types.is_timestamp(column.type):
        ints = column.cast(pa.int64())
        values = ints.fill_null(0).to_numpy()
        return values if ints.null_count == 0 else pd.arrays.IntegerArray(values, ints.is_null().to_numpy())
    return pd.arrays.ArrowExtensionArray(column.cast(pa.string()))


def _columns(chunk: Chunk, positions: Sequence[int], names: Sequence[str]) -> pa.Table:
    """Some columns of a chunk as an Arrow table: a batch's as they are, row values as text."""
    if isinstance(chunk, pa.RecordBatch):
        arrays = [chunk.column(i) for i in positions]
    else:
        arrays = [pa.array([_as_text(row[i]) for row in chunk], pa.string()) for i in positions]
    return pa.Table.from_arrays(arrays, names=list(names))


def _as_text(value: Any) -> str | None:
    """References are compared as the CSV holds them (text), so int ids match their read-back form."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text(table: pa.Table) -> pa.Table:
    return pa.Table.from_arrays([c.cast(pa.string()) for c in table.columns], names=table.column_names)


def _distinct(table: pa.Table) -> pa.Table:
    return table.group_by(table.column_names).aggregate([])


def read_parts(ctx: ExportContext, table: str) -> Iterator[pa.RecordBatch]:
    """A written table as batches of about a MB of CSV (every column a string, NULL as None), read
    part after part through a streaming gzip reader: memory holds one batch, not the table."""
    manifest = read_manifest(ctx.destination, ctx.day.isoformat(), table)
    if manifest is None:
        return
    names = [c["name"] for c in manifest["columns"]]
    convert = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,  # "" is an empty string, not NULL
    )
    parse = pa_csv.ParseOptions(newlines_in_values=True)
    for part in manifest["parts"]:
        with ctx.destination.open_read(part["key"]) as raw:
            yield from pa_csv.open_csv(
                pa.input_stream(raw, compression="gzip"), parse_options=parse, convert_options=convert
            )


# -- what the checks gather while a table streams past --------------------------------------------------


class _Observer(Protocol):
    def add(self, chunk: Chunk) -> None: ...


class _KeyTracker:
    """Counts duplicate primary keys in a stream with 8 bytes per row (a 64-bit hash of the key)."""

    def __init__(self, table: str, key: tuple[str, ...], positions: list[int]) -> None:
        self.table, self.key = table, key
        self._positions = positions
        self._hashes: list[np.ndarray] = []

    def add(self, chunk: Chunk) -> None:
        self._hashes.append(row_hashes(_columns(chunk, self._positions, self.key)))

    def duplicates(self) -> int:
        if not self._hashes:
            return 0
        values = np.concatenate(self._hashes)
        self._hashes = [values]
        values.sort()  # in place (np.unique would copy 8 bytes a row twice; 11M-row tables exist)
        return int(np.count_nonzero(values[1:] == values[:-1]))


class _RefCollector:
    """The distinct values a table's rows hold in the columns of one reference (as text, NULLs left out)."""

    def __init__(self, ref: Reference, positions: list[int]) -> None:
        self.ref = ref
        self._positions = positions
        self._found: list[pa.Table] = []
        self._rows = 0

    def add(self, chunk: Chunk) -> None:
        keys = _distinct(_text(_columns(chunk, self._positions, self.ref.columns)).drop_null())
        self._found.append(keys)
        self._rows += keys.num_rows
        if self._rows > _COMPACT_ROWS:
            self._found = [self.values()]
            self._rows = self._found[0].num_rows

    def values(self) -> pa.Table:
        if not self._found:
            return pa.schema([(c, pa.string()) for c in self.ref.columns]).empty_table()
        return _distinct(pa.concat_tables(self._found))


# -- the export -------------------------------------------------------------------------------------------


def export_spec(ctx: ExportContext, spec: TableSpec) -> ExportOutcome:
    """Export every table of `spec` for `ctx.day` in the order produced (the combined table first),
    each published only if its own blocking checks pass; a combined table that fails stops the export
    before its per-type tables. The Dagster assets do the same one output at a time (`defs.table_io`)."""
    exports: list[TableExport] = []
    for data in spec.produce(ctx, spec):
        exports.append(export_table(ctx, spec, data))
        if exports[-1].combined and not exports[-1].published:
            break
    return ExportOutcome(spec, exports, spanning_checks(ctx, spec, exports))


def export_table(ctx: ExportContext, spec: TableSpec, data: TableData) -> TableExport:
    """Write one table of the spec (staged), evaluate its checks, publish it only if every blocking one
    passed; on a failed check or any error its new parts are deleted and the table stays as it was."""
    combined = data.name == spec.name
    names = [c.name for c in data.columns]
    tracker = _KeyTracker(data.name, data.primary_key, [names.index(k) for k in data.primary_key])
    refs = (
        [_RefCollector(r, [names.index(c) for c in r.columns]) for r in spec.references] if combined else []
    )
    writer = _stage(ctx, data, [tracker, *refs])
    try:
        written = WrittenTable(writer.result, data.notes, data.metadata, tuple(data.columns))
        checked = _as_published(ctx, [writer])
        checks = [
            _key_check(checked, tracker),
            *(_reference_check(checked, spec.name, c) for c in refs),
            *(
                replace(check.evaluate(checked, [written]), blocking=check.blocking)
                for check in spec.custom_checks
                if combined and not check.after_per_type
            ),
            _columns_check(ctx, data),
        ]
        published = all(c.passed or not c.blocking for c in checks)
        if published:
            writer.publish()
        else:
            failed = ", ".join(c.name for c in checks if c.blocking and not c.passed)
            ctx.log.warning("%s of %s not published: blocking checks failed (%s)", data.name, ctx.day, failed)
    finally:
        writer.discard()  # the parts of a table not published (a no-op once published)
    return TableExport(spec, written, checks, published, ctx.api_calls)


def spanning_checks(ctx: ExportContext, spec: TableSpec, exports: list[TableExport]) -> list[CheckOutcome]:
    """The spec's checks over all of its tables, once all are written (none when the combined table
    was not among them)."""
    if not any(e.combined for e in exports):
        return []
    written = sorted((e.table for e in exports), key=lambda t: t.result.table != spec.name)
    return [
        replace(check.evaluate(ctx, written), blocking=False)
        for check in spec.custom_checks
        if check.after_per_type
    ]


def _stage(ctx: ExportContext, data: TableData, observers: Iterable[_Observer]) -> TableWriter:
    writer = TableWriter(
        ctx.destination,
        ctx.day.isoformat(),
        data.name,
        data.columns,
        run_id=ctx.run_id,
        account_id=ctx.account_id,
        as_of=ctx.as_of,
        max_part_bytes=ctx.max_part_bytes,
        notes=data.notes,
        staged=True,
    )
    with writer:
        for chunk in data.chunks():
            if isinstance(chunk, pa.RecordBatch):
                writer.write_batch(chunk)
            else:
                writer.write_rows(chunk)
            for observer in observers:
                observer.add(chunk)
    return writer


def _as_published(ctx: ExportContext, staged: list[TableWriter]) -> ExportContext:
    """The context the checks run in: its store shows the staged tables as published."""
    checked = copy.copy(ctx)  # shares the client and the snapshots already read
    checked.destination = _PublishedView(ctx.destination, staged)
    return checked


class _PublishedView(Destination):
    """The store as it will be once the staged tables are published: their manifests are served from
    memory, every other read and every write goes to the store."""

    def __init__(self, dest: Destination, staged: list[TableWriter]) -> None:
        self._dest = dest
        self._manifests = {w.result.manifest_key: w.pending_manifest for w in staged}

    def put_bytes(self, key: str, data: bytes | bytearray) -> None:
        self._dest.put_bytes(key, data)

    def put_file(self, key: str, path: str | os.PathLike[str]) -> None:
        self._dest.put_file(key, path)

    def get_bytes(self, key: str) -> bytes | None:
        return self._manifests[key] if key in self._manifests else self._dest.get_bytes(key)

    def open_read(self, key: str) -> BinaryIO:
        return io.BytesIO(self._manifests[key]) if key in self._manifests else self._dest.open_read(key)

    def list(self, prefix: str = "") -> builtins.list[ObjectInfo]:
        found = {info.key: info for info in self._dest.list(prefix)}
        found |= {k: ObjectInfo(k, len(v)) for k, v in self._manifests.items() if k.startswith(prefix)}
        return sorted(found.values(), key=lambda info: info.key)

    def delete(self, keys: Iterable[str]) -> None:
        self._dest.delete(keys)

    def exists(self, key: str) -> bool:
        return key in self._manifests or self._dest.exists(key)

    def url_for(self, key: str) -> str:
        return self._dest.url_for(key)


# -- the checks -------------------------------------------------------------------------------------------


def _key_check(ctx: ExportContext, tracker: _KeyTracker) -> CheckOutcome:
    duplicates = tracker.duplicates()
    metadata: dict[str, Any] = {"duplicate_keys": duplicates}
    if duplicates:
        metadata["examples"] = _duplicate_examples(ctx, tracker.table, tracker.key)
    return CheckOutcome(
        "primary_key_unique",
        not duplicates,
        f"primary key ({', '.join(tracker.key)}) unique in {tracker.table}",
        metadata,
    )


def _columns_check(ctx: ExportContext, data: TableData) -> CheckOutcome:
    """An alert when a column the table had the day before is gone or has another type (a consumer
    reading it by name would break); new columns (new properties) pass and are listed."""
    before = read_manifest(ctx.destination, (ctx.day - timedelta(days=1)).isoformat(), data.name)
    now = {c.header: c.type for c in data.columns}
    if before is None:
        return CheckOutcome(
            COLUMNS_CHECK,
            True,
            f"no export of {data.name} the day before to compare with",
            {"columns": len(now)},
        )
    was = {c["name"]: c["type"] for c in before["columns"]}
    removed = sorted(set(was) - set(now))
    retyped = sorted(n for n in set(was) & set(now) if was[n] != now[n])
    return CheckOutcome(
        COLUMNS_CHECK,
        not removed and not retyped,
        f"every column of {data.name} the day before is still there with its type",
        {
            "added": sorted(set(now) - set(was)),
            "removed": removed,
            "retyped": {n: f"{was[n]} -> {now[n]}" for n in retyped},
        },
        blocking=False,
    )


def _duplicate_examples(ctx: ExportContext, table: str, key: tuple[str, ...]) -> list[list[str | None]]:
    """A few keys the written table holds more than once, as its CSV holds them (read back twice: the
    hashes of every row, then the rows of the first duplicated hashes)."""
    columns = [k.upper() for k in key]

    def keys() -> Iterator[pa.Table]:
        for batch in read_parts(ctx, table):
            yield pa.Table.from_batches([batch]).select(columns)

    hashes = np.sort(np.concatenate([row_hashes(k) for k in keys()]))
    repeated = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])[:EXAMPLES]
    found = pa.concat_tables([k.filter(pa.array(np.isin(row_hashes(k), repeated))) for k in keys()])
    return [list(row.values()) for row in _sorted(_distinct(found), columns).to_pylist()]


def _sorted(table: pa.Table, columns: Sequence[str]) -> pa.Table:
    return table.sort_by([(c, "ascending") for c in columns])


def _reference_check(ctx: ExportContext, table: str, collector: _RefCollector) -> CheckOutcome:
    """Every value the table's rows use is in the referenced table as read back: the distinct values
    are anti-joined with the target, batch by batch."""
    ref = collector.ref
    name = ref.check_name
    description = (
        f"{table}.({', '.join(ref.columns)}) all found in {ref.table}.({', '.join(ref.target_columns)})"
    )
    if read_manifest(ctx.destination, ctx.day.isoformat(), ref.table) is None:
        return CheckOutcome(name, False, description, {"error": f"{ref.table} has no export for {ctx.day}"})
    missing = collector.values()
    for batch in read_parts(ctx, ref.table):
        if missing.num_rows == 0:
            break
        known = pa.Table.from_batches([batch]).select(list(ref.target_columns))
        missing = missing.join(
            known.rename_columns(list(ref.columns)), list(ref.columns), join_type="left anti"
        )
    examples = _sorted(missing, ref.columns).slice(0, EXAMPLES).to_pylist()
    return CheckOutcome(
        name,
        missing.num_rows == 0,
        description,
        {"dangling": missing.num_rows, "examples": [list(row.values()) for row in examples]},
    )
