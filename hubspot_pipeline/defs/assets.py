"""The table assets: one daily-partitioned asset per exported table, per-type tables included.

Each spec of the registry is one step (a multi-asset) that produces its combined table and, for
OBJECTS, ASSOCIATIONS and EVENTS, one table per object type, pair or event type, as the account state
lists them (`account_state`). Every table is its own asset, keyed `<prefix>/<table in lower case>`,
with its own checks, written by the IO manager (`table_io`): a table is published only after its
blocking checks pass. A per-type table can be selected and backfilled on its own (the step then
produces just the selected tables). A type that appeared after the last refresh of the account
state is still written by its combined table's step and named in an observation, so no data waits
for a refresh.
"""

import warnings
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any

import dagster as dg

from hubspot_pipeline import settings
from hubspot_pipeline.defs.account import DEFAULT_ACCOUNT, Account
from hubspot_pipeline.defs.account_state import AccountState
from hubspot_pipeline.defs.context import export_context
from hubspot_pipeline.defs.partitions import daily_partitions
from hubspot_pipeline.defs.table_io import TableStream, check_result, not_published
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.export import COLUMNS_CHECK, TableExport, export_table, spanning_checks
from hubspot_pipeline.tables.registry import TABLES
from hubspot_pipeline.tables.spec import TableData, TableSpec

# the default account's names (every other account's are in its `Account`)
KEY_PREFIX = DEFAULT_ACCOUNT.key_prefix
HUBSPOT_POOL = DEFAULT_ACCOUNT.pool


def asset_key(table: str, account: Account = DEFAULT_ACCOUNT) -> dg.AssetKey:
    return dg.AssetKey([account.key_prefix, table.lower()])


def freshness_policy() -> dg.FreshnessPolicy:
    """Yesterday's tables in place by HUBSPOT_FRESH_BY_HOUR_UTC each day (the UI shows them overdue
    otherwise): a materialization within the 24 hours before that hour."""
    hour = int(settings.read("HUBSPOT_FRESH_BY_HOUR_UTC"))
    return dg.FreshnessPolicy.cron(deadline_cron=f"0 {hour} * * *", lower_bound_delta=timedelta(hours=24))


def table_check_specs(spec: TableSpec, table: str, account: Account) -> list[dg.AssetCheckSpec]:
    """A table's checks, partitioned like the asset so each result belongs to its day: key uniqueness
    and the columns alert for every table; references and the custom checks for the combined one."""
    key = asset_key(table, account)
    declared: list[tuple[str, str, list[dg.AssetKey], bool]] = [
        ("primary_key_unique", "No two rows share the table's primary key.", [], True),
        (COLUMNS_CHECK, "Alert: a column of the day before is gone or has another type.", [], False),
    ]
    if table == spec.name:
        declared += [
            (
                ref.check_name,
                f"Every ({', '.join(ref.columns)}) exists in {ref.table} of the same day.",
                [asset_key(ref.table, account)],
                True,
            )
            for ref in spec.references
        ]
        declared += [(c.name, c.description, [], c.blocking) for c in spec.custom_checks]
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


def _table_spec(
    spec: TableSpec, table: str, account: Account, freshness: dg.FreshnessPolicy, optional: bool
) -> dg.AssetSpec:
    combined = table == spec.name
    deps = [asset_key(u, account) for u in spec.upstream]
    deps += [dg.AssetKey([account.key_prefix, *k[1:]]) for k in spec.asset_deps]
    metadata: dict[str, Any] = {"table": table}
    if combined:
        metadata["primary_key"] = ", ".join(spec.primary_key)
    return dg.AssetSpec(
        asset_key(table, account),
        deps=deps,
        description=spec.description
        if combined
        else f"The {spec.name} rows of one type, with a column per property.",
        group_name=spec.group,
        kinds={"hubspot", "csv"} if spec.calls_api else {"csv"},
        metadata=metadata,
        skippable=optional,
        partitions_def=daily_partitions,
        freshness_policy=freshness,
    ).with_io_manager_key(account.io_manager_key)


def build_spec_asset(
    spec: TableSpec, per_type: Sequence[str], account: Account = DEFAULT_ACCOUNT
) -> dg.AssetsDefinition:
    """The step of one spec: its combined table and the per-type tables `per_type` names."""
    tables = [spec.name, *per_type]
    freshness = freshness_policy()
    subsettable = len(tables) > 1
    specs = [_table_spec(spec, t, account, freshness, subsettable) for t in tables]
    declared = {asset_key(t, account): t for t in tables}

    @dg.multi_asset(
        name=f"{account.key_prefix}__{spec.name.lower()}",
        specs=specs,
        check_specs=[c for t in tables for c in table_check_specs(spec, t, account)],
        can_subset=subsettable,
        pool=account.pool if spec.calls_api else None,
        required_resource_keys={account.hubspot_key, account.store_key},
    )
    def _tables(context: dg.AssetExecutionContext) -> Iterator[Any]:
        resources = context.resources
        ctx = export_context(
            context,
            date.fromisoformat(context.partition_key),
            getattr(resources, account.hubspot_key),
            getattr(resources, account.store_key),
        )
        selected = set(context.selected_asset_keys)
        combined_key = asset_key(spec.name, account)
        exports: list[TableExport] = []
        unlisted: list[str] = []
        for data in spec.produce(ctx, spec):
            key = asset_key(data.name, account)
            if key not in declared:
                # a type newer than the account state: written all the same, named below
                if combined_key in selected:
                    exports.append(_export_unlisted(ctx, spec, data))
                    unlisted.append(data.name)
                continue
            if key not in selected:
                continue  # its rows are never produced (the stream is lazy)
            stream = TableStream(ctx, spec, data)
            yield dg.Output(stream, output_name=context.assets_def.get_output_name_for_asset_key(key))
            assert stream.export is not None  # set by the IO manager, which raised if not published
            exports.append(stream.export)
            yield from (check_result(key, c) for c in stream.export.checks)
        if combined_key in selected:
            yield from (check_result(combined_key, c) for c in spanning_checks(ctx, spec, exports))
        if unlisted:
            context.log.warning(
                "%d tables have no asset yet (refresh the account state to add them): %s",
                len(unlisted),
                ", ".join(unlisted),
            )
            yield dg.AssetObservation(
                asset_key=combined_key,
                partition=context.partition_key,
                metadata={"tables_without_asset": dg.MetadataValue.json(unlisted)},
            )

    return _tables


def _export_unlisted(ctx: ExportContext, spec: TableSpec, data: TableData) -> TableExport:
    export = export_table(ctx, spec, data)
    if not export.published:
        raise not_published(export, ctx.day)
    return export


def build_table_assets(
    state: AccountState | None, account: Account = DEFAULT_ACCOUNT
) -> list[dg.AssetsDefinition]:
    """Every table asset of the account: the per-type ones as `state` lists them (none without it)."""
    return [build_spec_asset(spec, state.per_type(spec.name) if state else (), account) for spec in TABLES]
