"""Write a table spec's output for one day to the store, evaluate its blocking checks, then publish.

A table is published only after its blocking checks pass (DESIGN section 5), so a failing day never
replaces the good run before it:
1. every table of the spec (the combined table, then its per-type tables) is written as parts of this
   run with its manifest held back (`TableWriter(staged=True)`);
2. the checks are evaluated: key uniqueness and the values references use while the chunks stream
   past (a table is read once), the rest afterwards against a view of the store in which the staged
   tables are already published, so a check that reads a table back reads the new parts;
3. every check passed: each table's manifest is written and its earlier runs' parts deleted; else (or
   on any error) the new parts are deleted and every table stays exactly as it was.

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
from typing import Any, BinaryIO, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from hubspot_pipeline.store import Destination, ObjectInfo, TableResult, TableWriter, read_manifest
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.spec import Chunk, Reference, TableData, TableSpec

EXAMPLES = 5  # duplicate keys or dangling references a failed check names
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


@dataclass
class ExportOutcome:
    spec: TableSpec
    tables: list[WrittenTable]
    checks: list[CheckOutcome]
    api_calls: int
    # False when a blocking check failed: nothing of this run is visible, the earlier run stays
    published: bool = True

    @property
    def main(self) -> WrittenTable:
        return self.tables[0]

    @property
    def failed(self) -> list[CheckOutcome]:
        """The blocking checks that failed (why the tables were not published)."""
        return [c for c in self.checks if c.blocking and not c.passed]


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
    """Produce and write every table of `spec` for `ctx.day`, check them, and publish them only if
    every check passed; return what was written, the check results and whether it was published."""
    staged: list[TableWriter] = []
    try:
        written, trackers, collectors = _stage_tables(ctx, spec, staged)
        checked = _as_published(ctx, staged)
        checks = [
            _key_check(checked, spec, trackers),
            *(_reference_check(checked, spec.name, c) for c in collectors),
            *(
                replace(check.evaluate(checked, written), blocking=check.blocking)
                for check in spec.custom_checks
            ),
        ]
        published = all(c.passed or not c.blocking for c in checks)
        if published:
            for writer in staged:
                writer.publish()
        else:
            failed = ", ".join(c.name for c in checks if c.blocking and not c.passed)
            ctx.log.warning("%s of %s not published: blocking checks failed (%s)", spec.name, ctx.day, failed)
    finally:
        for writer in staged:
            writer.discard()  # the parts of every table not published (a no-op for the others)
    return ExportOutcome(spec, written, checks, ctx.api_calls, published)


def _stage_tables(
    ctx: ExportContext, spec: TableSpec, staged: list[TableWriter]
) -> tuple[list[WrittenTable], list[_KeyTracker], list[_RefCollector]]:
    """Write each table the spec produces, its manifest held back; gather its key hashes and (for the
    combined table) the values its references use."""
    written: list[WrittenTable] = []
    trackers: list[_KeyTracker] = []
    collectors: list[_RefCollector] = []
    for data in spec.produce(ctx, spec):
        names = [c.name for c in data.columns]
        tracker = _KeyTracker(data.name, data.primary_key, [names.index(k) for k in data.primary_key])
        refs = (
            [_RefCollector(r, [names.index(c) for c in r.columns]) for r in spec.references]
            if data.name == spec.name
            else []
        )
        staged.append(_stage(ctx, data, [tracker, *refs]))
        written.append(WrittenTable(staged[-1].result, data.notes, data.metadata))
        trackers.append(tracker)
        collectors += refs
    return written, trackers, collectors


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


def _key_check(ctx: ExportContext, spec: TableSpec, trackers: list[_KeyTracker]) -> CheckOutcome:
    """One declared check covers the combined table and every per-type table it wrote."""
    duplicates = {t.table: t.duplicates() for t in trackers}
    metadata: dict[str, Any] = {"duplicate_keys": duplicates}
    examples = {t.table: _duplicate_examples(ctx, t.table, t.key) for t in trackers if duplicates[t.table]}
    if examples:
        metadata["examples"] = examples
    return CheckOutcome(
        "primary_key_unique",
        not any(duplicates.values()),
        f"primary key ({', '.join(spec.primary_key)}) unique in {spec.name} and its per-type tables",
        metadata,
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
