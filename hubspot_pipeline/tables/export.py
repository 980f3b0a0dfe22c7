"""Write a table spec's output for one day to the store, and evaluate its data-quality checks.

Checks are computed while the rows stream past (primary-key uniqueness, the keys that references use),
so a table is read once; only the referenced tables are read back from the store.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hubspot_pipeline.store import TableResult, read_manifest, read_table
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.spec import Reference, Row, TableData, TableSpec


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


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

    @property
    def main(self) -> WrittenTable:
        return self.tables[0]


class _KeyTracker:
    """Counts duplicate primary keys in a stream with 8 bytes per row (a 64-bit digest of the key)."""

    def __init__(self, positions: list[int]) -> None:
        self._positions = positions
        self._digests = array("q")

    def add(self, row: Row) -> None:
        key = repr(tuple(row[i] for i in self._positions)).encode("utf-8")
        digest = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little", signed=True)
        self._digests.append(digest)

    def duplicates(self) -> int:
        if not self._digests:
            return 0
        values = np.frombuffer(self._digests, dtype=np.int64)
        values.sort()  # in place (np.unique would copy 8 bytes a row twice; 11M-row tables exist)
        return int(np.count_nonzero(values[1:] == values[:-1]))


class _RefCollector:
    """The distinct values a table's rows hold in the columns of one reference."""

    def __init__(self, ref: Reference, positions: list[int]) -> None:
        self.ref = ref
        self._positions = positions
        self.values: set[tuple[str, ...]] = set()

    def add(self, row: Row) -> None:
        values = tuple(_as_text(row[i]) for i in self._positions)
        if None not in values:
            self.values.add(values)  # type: ignore[arg-type]


def _as_text(value: Any) -> str | None:
    """References are compared as the CSV holds them (text), so int ids match their read-back form."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _tap(rows: Iterable[Row], observers: list[Any]) -> Iterator[Row]:
    for row in rows:
        for obs in observers:
            obs.add(row)
        yield row


def export_spec(ctx: ExportContext, spec: TableSpec) -> ExportOutcome:
    """Produce and write every table of `spec` for `ctx.day`; return what was written and the check results."""
    written: list[WrittenTable] = []
    duplicates: dict[str, int] = {}
    ref_checks: list[CheckOutcome] = []
    for data in spec.produce(ctx, spec):
        names = [c.name for c in data.columns]
        tracker = _KeyTracker([names.index(k) for k in data.primary_key])
        refs = (
            [_RefCollector(r, [names.index(c) for c in r.columns]) for r in spec.references]
            if data.name == spec.name
            else []
        )
        result = _write(ctx, data, _tap(data.rows, [tracker, *refs]))
        written.append(WrittenTable(result, data.notes, data.metadata))
        duplicates[data.name] = tracker.duplicates()
        ref_checks.extend(_reference_check(ctx, data.name, r) for r in refs)
    # one declared check covers the combined table and every per-type table it wrote
    pk_check = CheckOutcome(
        "primary_key_unique",
        not any(duplicates.values()),
        f"primary key ({', '.join(spec.primary_key)}) unique in {spec.name} and its per-type tables",
        {"duplicate_keys": duplicates},
    )
    custom = [check.evaluate(ctx, written) for check in spec.custom_checks]
    return ExportOutcome(spec, written, [pk_check, *ref_checks, *custom], ctx.api_calls)


def _write(ctx: ExportContext, data: TableData, rows: Iterable[Row]) -> TableResult:
    with ctx.destination.table_writer(
        ctx.day.isoformat(),
        data.name,
        data.columns,
        run_id=ctx.run_id,
        account_id=ctx.account_id,
        as_of=ctx.as_of,
        max_part_bytes=ctx.max_part_bytes,
        notes=data.notes,
    ) as writer:
        writer.write_rows(rows)
    return writer.result


def _reference_check(ctx: ExportContext, table: str, collector: _RefCollector) -> CheckOutcome:
    ref = collector.ref
    name = ref.check_name
    description = (
        f"{table}.({', '.join(ref.columns)}) all found in {ref.table}.({', '.join(ref.target_columns)})"
    )
    if read_manifest(ctx.destination, ctx.day.isoformat(), ref.table) is None:
        return CheckOutcome(name, False, description, {"error": f"{ref.table} has no export for {ctx.day}"})
    target = read_table(ctx.destination, ctx.day.isoformat(), ref.table)
    cols = [target.column(c).to_pylist() for c in ref.target_columns]
    known = set(zip(*cols, strict=True))
    missing = sorted(collector.values - known)
    return CheckOutcome(
        name,
        not missing,
        description,
        {"dangling": len(missing), "examples": [list(m) for m in missing[:5]]},
    )
