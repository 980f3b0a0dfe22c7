"""The CRM index sync as a daily-partitioned asset: upstream of the CRM tables, downstream of the definitions."""

from datetime import date

import dagster as dg

from hubspot_pipeline.defs.account import DEFAULT_ACCOUNT, Account
from hubspot_pipeline.defs.assets import asset_key, freshness_policy
from hubspot_pipeline.defs.context import export_context
from hubspot_pipeline.defs.partitions import daily_partitions
from hubspot_pipeline.defs.resources import ExportStoreResource, HubSpotResource
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sync.full_sync import SyncPlan, sync_plan
from hubspot_pipeline.sync.index_sync import sync_index
from hubspot_pipeline.sync.journal import Journal, JournalError
from hubspot_pipeline.sync.timestamps import iso_ms
from hubspot_pipeline.tables.registry import SYNC_DEFINITION_TABLES


def crm_index_key(account: Account = DEFAULT_ACCOUNT) -> dg.AssetKey:
    return dg.AssetKey([account.key_prefix, "crm_index"])


CRM_INDEX_KEY = crm_index_key()


def build_crm_index(account: Account = DEFAULT_ACCOUNT) -> dg.AssetsDefinition:
    @dg.asset(
        key=crm_index_key(account),
        description=(
            "The CRM index under _state/index/: every record, its property history and associations, synced "
            "from HubSpot. Materialising a day the index is already synced past makes no API call."
        ),
        group_name="crm",
        partitions_def=daily_partitions,
        deps=[asset_key(t, account) for t in SYNC_DEFINITION_TABLES],
        pool=account.pool,
        kinds={"hubspot", "parquet"},
        freshness_policy=freshness_policy(),
        required_resource_keys={account.hubspot_key, account.store_key},
    )
    def _crm_index(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        hubspot: HubSpotResource = getattr(context.resources, account.hubspot_key)
        export_store: ExportStoreResource = getattr(context.resources, account.store_key)
        return sync_crm_index(context, hubspot, export_store)

    return _crm_index


def sync_crm_index(
    context: dg.AssetExecutionContext, hubspot: HubSpotResource, export_store: ExportStoreResource
) -> dg.MaterializeResult:
    ctx = export_context(context, date.fromisoformat(context.partition_key), hubspot, export_store)

    def plan() -> SyncPlan:
        # checked against the definitions here, before the sync asks HubSpot for any record
        return sync_plan(
            ctx.snapshot("schemas").data,
            ctx.snapshot("properties").data,
            ctx.snapshot("association_labels").data,
            selection=ctx.selection,
        )

    app = hubspot.journal_app()

    def journal(client: HubSpotClient) -> Journal:
        assert app is not None
        if not ctx.account_id.isdigit():
            raise JournalError(
                "the account's portal id is unknown (no account snapshot): the journal needs it"
            )
        return Journal(client, app, int(ctx.account_id))

    outcome = sync_index(
        ctx.destination,
        ctx.as_of,
        context.run.run_id,
        lambda: ctx.client,
        plan,
        context.log,
        hubspot.incremental(),
        journal if app is not None else None,
    )
    # the types read outside the objects API: read here, once, so every CRM table projects one snapshot
    other = ctx.snapshot("other_objects").data
    latest = outcome.manifest.generations[-1] if outcome.manifest.generations else None
    stats = latest.stats if latest is not None else {}
    metadata: dict[str, object] = {
        "synced": outcome.synced,
        "api_calls": ctx.api_calls,
        "api_calls_floor": outcome.api_calls_floor,
        "watermark": iso_ms(outcome.manifest.watermark) or "",
        "generations": len(outcome.manifest.generations),
        "live_records": dg.MetadataValue.json(stats.get("live_records", {})),
        "archived_records": dg.MetadataValue.json(stats.get("archived_records", {})),
        "association_rows": dg.MetadataValue.json(stats.get("association_rows", {})),
        # per type of the last run: changed records, new tombstones, FAILED by category (as SYNC_HEALTH)
        "delta": dg.MetadataValue.json(stats.get("types", {})),
        "other_type_rows": other.num_rows,
    }
    return dg.MaterializeResult(metadata=metadata)


crm_index = build_crm_index()
