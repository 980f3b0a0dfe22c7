"""What an exported table is: its columns, keys, references and how its rows are produced.

Every table of the export (DESIGN section 4) is one `TableSpec` in `registry.TABLES`. A spec's `produce`
yields the combined table first and then, for tables such as OBJECTS or EVENTS, one `TableData` per
object or event type (OBJECTS_CONTACTS, ...). The Dagster layer builds one step per spec with one asset
per table: the per-type ones as the account state lists them (`per_type_tables`).

A table streams either row tuples (the small tables) or Arrow record batches in the table's column
order (the CRM tables, which go from the index to the CSV without per-row Python); `TableData.chunks`
is the one way the writer and the checks consume both.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import pyarrow as pa

from hubspot_pipeline.store import Column

if TYPE_CHECKING:
    from hubspot_pipeline.tables.context import ExportContext

Row = Sequence[Any]
# A piece of a table's stream: an Arrow batch as produced, or a list of row tuples.
Chunk = pa.RecordBatch | list[Row]


def columns(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(name, kind) for name, kind in pairs)


@dataclass(frozen=True)
class Reference:
    """Rows of this table point at rows of `table` (same day): `columns` must match `target_columns`."""

    columns: tuple[str, ...]
    table: str
    target_columns: tuple[str, ...]

    # the check's name when the default (below) does not suit
    name: str = ""

    @property
    def check_name(self) -> str:
        """`references_<table>`, naming the columns too when they differ from the target's."""
        if self.name:
            return self.name
        name = f"references_{self.table.lower()}"
        if self.columns != self.target_columns:
            name += "_via_" + "_".join(c.lower() for c in self.columns)
        return name


@dataclass(frozen=True)
class CustomCheck:
    """A check beyond key uniqueness and references, evaluated after the spec's tables are written and
    before they are published. A blocking one (the default) keeps the tables unpublished when it fails;
    a non-blocking one is an alert about the data the table reports (the table is still right).

    `evaluate(ctx, written)` gets the export context and a list of `WrittenTable`s: the combined table
    (or, `after_per_type`, the combined table then its per-type tables) and returns a `CheckOutcome`
    named `name`. `ctx.destination` shows the table as if published, so a check that reads it back
    (`read_table`, `read_manifest`) reads the new parts.
    """

    name: str
    description: str
    evaluate: Callable[..., Any]
    blocking: bool = True
    # evaluated once the per-type tables are written too (`written` then holds them all), so it cannot
    # hold the combined table back: always an alert
    after_per_type: bool = False


@dataclass
class TableData:
    """One table's rows for one day, as produced by a spec (streamed, never held): row tuples, or
    Arrow record batches whose columns are the table's, in order."""

    name: str
    columns: Sequence[Column]
    rows: Iterable[Row] | Iterable[pa.RecordBatch]
    primary_key: tuple[str, ...]
    notes: list[str] = field(default_factory=list)
    # figures the asset reports next to its row count (e.g. SYNC_HEALTH's per type)
    metadata: dict[str, Any] = field(default_factory=dict)

    def chunks(self, rows_per_chunk: int = 50_000) -> Iterator[Chunk]:
        """The stream in order: each Arrow batch as produced, or the rows in lists of at most
        `rows_per_chunk` (a stream is all batches or all rows)."""
        items = iter(self.rows)
        first = next(items, None)
        if first is None:
            return
        stream = itertools.chain([first], items)
        if isinstance(first, pa.RecordBatch):
            yield from cast(Iterator[pa.RecordBatch], stream)
            return
        rows = cast(Iterator[Row], stream)
        while chunk := list(itertools.islice(rows, rows_per_chunk)):
            yield chunk


@dataclass(frozen=True)
class TableSpec:
    name: str
    group: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    produce: Callable[[ExportContext, TableSpec], Iterator[TableData]]
    references: tuple[Reference, ...] = ()
    # assets this one reads from (the store or the state) and must run after
    upstream: tuple[str, ...] = ()
    # whether producing the table may call HubSpot (such assets share the HubSpot concurrency pool)
    calls_api: bool = True
    custom_checks: tuple[CustomCheck, ...] = ()
    # other assets (not tables) this one runs after, by asset key path, e.g. ("hubspot", "crm_index")
    asset_deps: tuple[tuple[str, ...], ...] = ()
    # the names of the per-type tables `produce` writes after the combined one, for the account as
    # the context sees it (the account state lists them, so each is its own asset)
    per_type_tables: Callable[[ExportContext], list[str]] | None = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]
