"""The IO manager of every table asset: it writes a day's table as gzip-CSV parts and its manifest,
and loads a day's table for a downstream asset.

A table asset returns a `TableStream` per table: the table's column schema and its rows as a stream
of Arrow record batches (or row tuples for the small tables), never held in memory. `handle_output`
writes the parts (staged), evaluates the table's checks and publishes the manifest only when every
blocking check passed (`tables.export.export_table`), then reports the row count, column schema,
parts, bytes and the manifest's absolute URI. When a blocking check fails, nothing is published:
the check results are recorded for the partition and the step fails without a materialization, so
the day's previous export stays what readers (and `load_input`) see.

`load_input` reads a day's table through its manifest (each part's size and sha256 checked) with the
column types of the manifest: a pandas DataFrame or a pyarrow Table, as the input is annotated; an
input spanning several partitions gets a dict of them by day.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa
from dagster._core.events import DagsterEvent

from hubspot_pipeline.defs.resources import ExportStoreResource
from hubspot_pipeline.store import read_manifest, read_table
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.export import CheckOutcome, TableExport, export_table
from hubspot_pipeline.tables.spec import TableData, TableSpec

# how each manifest column type is read back (text as it is: string, json)
_ARROW_TYPES: Mapping[str, pa.DataType] = {
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("ms", tz="UTC"),
}


@dataclass
class TableStream:
    """What a table asset returns: one table of one day, produced as it is written. `export` is
    filled in by the IO manager: what was written, the checks, and whether it was published."""

    ctx: ExportContext
    spec: TableSpec
    data: TableData
    export: TableExport | None = None


def column_schema(columns: Any) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(c.header, c.type) for c in columns])


def check_result(key: dg.AssetKey, check: CheckOutcome) -> dg.AssetCheckResult:
    """A check outcome as Dagster records it: a blocking check fails with ERROR, an alert with WARN."""
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=check.name,
        passed=check.passed,
        severity=dg.AssetCheckSeverity.ERROR if check.blocking else dg.AssetCheckSeverity.WARN,
        description=check.description,
        metadata={
            k: dg.MetadataValue.json(v) if isinstance(v, dict | list) else v
            for k, v in check.metadata.items()
        },
    )


def not_published(export: TableExport, day: object) -> dg.Failure:
    """The step's failure when a table's blocking checks failed, naming them with their figures."""
    return dg.Failure(
        description=f"{export.table.result.table} of {day} not published: blocking checks failed: "
        + ", ".join(c.name for c in export.failed),
        metadata={c.name: dg.MetadataValue.json(c.metadata) for c in export.failed},
        allow_retries=False,  # the same data fails the same way
    )


def table_metadata(export: TableExport, url: str) -> dict[str, Any]:
    table = export.table
    result = table.result
    metadata: dict[str, Any] = {
        "dagster/row_count": result.rows,
        "dagster/column_schema": column_schema(table.columns),
        "dagster/uri": url,
        "parts": len(result.parts),
        "bytes": result.bytes,
    }
    if export.combined:
        metadata["api_calls"] = export.api_calls  # the step's: its per-type tables come from what it read
    # plain numbers stay numbers (the UI plots them over the partitions)
    metadata.update(
        {k: v if isinstance(v, int) else dg.MetadataValue.json(v) for k, v in table.metadata.items()}
    )
    if table.notes:
        metadata["notes"] = dg.MetadataValue.md("\n".join(f"- {n}" for n in table.notes))
    return metadata


class TableIOManager(dg.ConfigurableIOManager):
    """Writes and reads the export's tables: one folder per day and table, gzip-CSV parts of at most
    `max_part_bytes` and a `_manifest.json` written last (the export store's settings)."""

    export_store: ExportStoreResource

    def handle_output(self, context: dg.OutputContext, obj: TableStream) -> Iterator[DagsterEvent]:
        if not isinstance(obj, TableStream):
            raise dg.Failure(
                f"{context.asset_key.to_user_string()} returned {type(obj).__name__}, not a TableStream"
            )
        obj.export = export = export_table(obj.ctx, obj.spec, obj.data)
        if not export.published:
            # Recorded here, since the step ends with this output: Dagster has no public way for an IO
            # manager to report check results, and yielding them after the output is never reached.
            # The internal calls are those of `AssetCheckResult` yielded by an asset (dagster 1.13).
            for check in export.checks:
                evaluation = check_result(context.asset_key, check).to_asset_check_evaluation(
                    context.step_context
                )
                yield DagsterEvent.asset_check_evaluation(context.step_context, evaluation)
            raise not_published(export, obj.ctx.day)
        url = obj.ctx.destination.url_for(export.table.result.manifest_key)
        context.add_output_metadata(table_metadata(export, url))

    def load_input(self, context: dg.InputContext) -> Any:
        table = _table_name(context)
        dest = self.export_store.destination()
        days = context.asset_partition_keys if context.has_asset_partitions else []
        if not days:
            raise dg.Failure(f"{table} is daily-partitioned: load it for a day (partition key YYYY-MM-DD)")
        as_pandas = _wants_pandas(context)
        loaded = {day: _typed(dest, day, table, as_pandas) for day in days}
        if len(days) == 1 and not _wants_dict(context):
            return loaded[days[0]]
        return loaded


def _table_name(context: dg.InputContext) -> str:
    upstream = context.upstream_output
    metadata = upstream.definition_metadata if upstream is not None else {}
    name = metadata.get("table") if metadata else None
    return str(getattr(name, "value", name) or context.asset_key.path[-1].upper())


def _typed(dest: Any, day: str, table: str, as_pandas: bool) -> pd.DataFrame | pa.Table:
    manifest = read_manifest(dest, day, table)
    if manifest is None:
        raise dg.Failure(f"{table} has no export for {day}: materialize that partition first")
    text = read_table(dest, day, table)  # checks every part against the manifest
    typed = pa.table(
        {
            c["name"]: text.column(c["name"]).cast(_ARROW_TYPES.get(c["type"], pa.string()))
            for c in manifest["columns"]
        }
    )
    return typed.to_pandas(types_mapper=pd.ArrowDtype) if as_pandas else typed


def _annotation(context: dg.InputContext) -> Any:
    return context.dagster_type.typing_type


def _wants_pandas(context: dg.InputContext) -> bool:
    kind = _annotation(context)
    inner = getattr(kind, "__args__", None)
    if isinstance(inner, tuple) and len(inner) == 2:  # dict[str, X]
        kind = inner[1]
    return kind is not pa.Table


def _wants_dict(context: dg.InputContext) -> bool:
    kind = _annotation(context)
    return getattr(kind, "__origin__", None) in (dict, Mapping)
