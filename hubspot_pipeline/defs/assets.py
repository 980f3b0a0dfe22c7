"""One daily-partitioned asset per table of the registry, each with its blocking data-quality checks."""

from datetime import date

import dagster as dg

from hubspot_pipeline.defs.context import export_context
from hubspot_pipeline.defs.partitions import daily_partitions
from hubspot_pipeline.defs.resources import ExportStoreResource, HubSpotResource
from hubspot_pipeline.store import Column
from hubspot_pipeline.tables.export import ExportOutcome, export_spec
from hubspot_pipeline.tables.registry import TABLES
from hubspot_pipeline.tables.spec import TableSpec

KEY_PREFIX = "hubspot"
HUBSPOT_POOL = "hubspot_api"


def asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([KEY_PREFIX, table.lower()])


def check_specs(spec: TableSpec) -> list[dg.AssetCheckSpec]:
    key = asset_key(spec.name)
    specs = [
        dg.AssetCheckSpec(
            "primary_key_unique",
            asset=key,
            blocking=True,
            description=f"No two rows share ({', '.join(spec.primary_key)}).",
        )
    ]
    specs += [
        dg.AssetCheckSpec(
            ref.check_name,
            asset=key,
            blocking=True,
            additional_deps=[asset_key(ref.table)],
            description=f"Every ({', '.join(ref.columns)}) exists in {ref.table} of the same day.",
        )
        for ref in spec.references
    ]
    specs += [
        dg.AssetCheckSpec(c.name, asset=key, blocking=True, description=c.description)
        for c in spec.custom_checks
    ]
    return specs


def column_schema(columns: list[Column] | tuple[Column, ...]) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(c.name, c.type) for c in columns])


def materialize_result(outcome: ExportOutcome) -> dg.MaterializeResult:
    main = outcome.main.result
    metadata: dict[str, object] = {
        "dagster/row_count": main.rows,
        "dagster/column_schema": column_schema(outcome.spec.columns),
        "dagster/uri": dg.MetadataValue.path(main.manifest_key),
        "parts": len(main.parts),
        "bytes": main.bytes,
        "api_calls": outcome.api_calls,
    }
    metadata.update({k: dg.MetadataValue.json(v) for k, v in outcome.main.metadata.items()})
    if outcome.main.notes:
        metadata["notes"] = dg.MetadataValue.md("\n".join(f"- {n}" for n in outcome.main.notes))
    if len(outcome.tables) > 1:
        metadata["tables"] = dg.MetadataValue.json(
            {
                t.result.table: {"rows": t.result.rows, "parts": len(t.result.parts), "bytes": t.result.bytes}
                for t in outcome.tables[1:]
            }
        )
    checks = [
        dg.AssetCheckResult(
            check_name=c.name,
            passed=c.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=c.description,
            metadata={
                k: dg.MetadataValue.json(v) if isinstance(v, dict | list) else v
                for k, v in c.metadata.items()
            },
        )
        for c in outcome.checks
    ]
    return dg.MaterializeResult(metadata=metadata, check_results=checks)


def build_table_asset(spec: TableSpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=asset_key(spec.name),
        description=spec.description,
        group_name=spec.group,
        partitions_def=daily_partitions,
        deps=[asset_key(u) for u in spec.upstream] + [dg.AssetKey(list(k)) for k in spec.asset_deps],
        check_specs=check_specs(spec),
        pool=HUBSPOT_POOL if spec.calls_api else None,
        kinds={"hubspot", "csv"} if spec.calls_api else {"csv"},
        metadata={"table": spec.name, "primary_key": ", ".join(spec.primary_key)},
    )
    def _table(
        context: dg.AssetExecutionContext, hubspot: HubSpotResource, export_store: ExportStoreResource
    ) -> dg.MaterializeResult:
        ctx = export_context(context, date.fromisoformat(context.partition_key), hubspot, export_store)
        return materialize_result(export_spec(ctx, spec))

    return _table


table_assets: list[dg.AssetsDefinition] = [build_table_asset(spec) for spec in TABLES]
