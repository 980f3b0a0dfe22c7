"""One daily-partitioned asset per table of the registry, each with its blocking data-quality checks.

A table is published only after its blocking checks pass (`tables.export`). When one fails, the asset
reports every check result for the partition and fails without a materialization: the day's previous
export stays what readers see, and downstream assets do not run.
"""

import warnings
from collections.abc import Iterator
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
    """The table's checks (blocking unless a custom check says otherwise), partitioned like the asset so
    each result belongs to its day."""
    key = asset_key(spec.name)
    declared: list[tuple[str, str, list[dg.AssetKey], bool]] = [
        ("primary_key_unique", f"No two rows share ({', '.join(spec.primary_key)}).", [], True),
        *(
            (
                ref.check_name,
                f"Every ({', '.join(ref.columns)}) exists in {ref.table} of the same day.",
                [asset_key(ref.table)],
                True,
            )
            for ref in spec.references
        ),
        *((c.name, c.description, [], c.blocking) for c in spec.custom_checks),
    ]
    with warnings.catch_warnings():
        # partitioned checks (AssetCheckSpec.partitions_def, 1.12.14+) are still marked preview in 1.13
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return [
            dg.AssetCheckSpec(
                name,
                asset=key,
                blocking=blocking,
                additional_deps=deps,
                description=description,
                partitions_def=daily_partitions,
            )
            for name, description, deps, blocking in declared
        ]


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
    return dg.MaterializeResult(metadata=metadata, check_results=check_results(outcome))


def check_results(outcome: ExportOutcome) -> list[dg.AssetCheckResult]:
    return [
        dg.AssetCheckResult(
            check_name=c.name,
            passed=c.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=c.description,
            metadata={k: _metadata(v) for k, v in c.metadata.items()},
        )
        for c in outcome.checks
    ]


def _metadata(value: object) -> object:
    return dg.MetadataValue.json(value) if isinstance(value, dict | list) else value


def table_events(outcome: ExportOutcome) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """A published table: its materialization, with the check results. Not published: the check
    results alone, then a `dg.Failure` naming the failed checks.

    Why not a MaterializeResult with failed results: Dagster 1.13 would record a materialization of the
    partition (data that was never published) and only then fail the step with
    DagsterAssetCheckFailedError (`core_dagster_event_sequence_for_step` in
    dagster/_core/execution/plan/execute_step.py). Each AssetCheckResult yielded by an asset with
    `check_specs` is logged as its ASSET_CHECK_EVALUATION when yielded, so the results are recorded
    before the step fails, for the partition since the specs carry `partitions_def`
    (`AssetCheckResult.to_asset_check_evaluation`); a failed step skips the steps downstream of it
    (AssetCheckSpec docs: "if the check fails with severity ERROR, then downstream assets won't
    execute", https://docs.dagster.io/api/asset-checks).
    """
    if outcome.published:
        yield materialize_result(outcome)
        return
    yield from check_results(outcome)
    failed = outcome.failed
    raise dg.Failure(
        description=f"{outcome.spec.name} not published: blocking checks failed: "
        + ", ".join(c.name for c in failed),
        metadata={c.name: dg.MetadataValue.json(c.metadata) for c in failed},
        allow_retries=False,  # the same data fails the same way
    )


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
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        ctx = export_context(context, date.fromisoformat(context.partition_key), hubspot, export_store)
        yield from table_events(export_spec(ctx, spec))

    return _table


table_assets: list[dg.AssetsDefinition] = [build_table_asset(spec) for spec in TABLES]
