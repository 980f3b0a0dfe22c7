"""What an exported table is: its columns, keys, references and how its rows are produced.

Every table of the export (DESIGN section 4) is one `TableSpec` in `registry.TABLES`. The Dagster layer
builds one asset per spec; a spec's `produce` yields the combined table first and then, for tables such
as OBJECTS or EVENTS, one `TableData` per object or event type (OBJECTS_CONTACTS, ...), all written by the
same asset because the set of types is only known at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hubspot_pipeline.store import Column

if TYPE_CHECKING:
    from hubspot_pipeline.tables.context import ExportContext

Row = Sequence[Any]


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
    """A blocking check beyond key uniqueness and references, evaluated after the spec's tables are written.

    `evaluate(ctx, written)` gets the export context and the `WrittenTable`s of the run (combined table
    first) and returns a `CheckOutcome` named `name`.
    """

    name: str
    description: str
    evaluate: Callable[..., Any]


@dataclass
class TableData:
    """One table's rows for one day, as produced by a spec (rows are streamed, never held)."""

    name: str
    columns: Sequence[Column]
    rows: Iterable[Row]
    primary_key: tuple[str, ...]
    notes: list[str] = field(default_factory=list)
    # figures the asset reports next to its row count (e.g. SYNC_HEALTH's per type)
    metadata: dict[str, Any] = field(default_factory=dict)


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

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]
