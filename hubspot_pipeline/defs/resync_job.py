"""The `resync` job: re-read failed or deleted records, or whole object types, on demand (README
"Resync"; `sync/resync.py`). It runs in the account's HubSpot pool, paced with every other step, and
reports what it read on the `crm_index` asset; the next daily export shows it."""

from datetime import timedelta

import dagster as dg
from pydantic import Field

from hubspot_pipeline.defs.account import DEFAULT_ACCOUNT, Account
from hubspot_pipeline.defs.context import export_context
from hubspot_pipeline.defs.resources import ExportStoreResource, HubSpotResource
from hubspot_pipeline.defs.sync_asset import crm_index_key
from hubspot_pipeline.sync.full_sync import sync_plan
from hubspot_pipeline.sync.index import load_manifest
from hubspot_pipeline.sync.resync import WHICH, ResyncError, ResyncRequest, resync


class ResyncConfig(dg.Config):
    which: str = Field(
        default="failed",
        description="failed: re-read the records whose last read failed; deleted: re-check the tombstones "
        "(a record restored in HubSpot comes back); all: re-read the types whole and replace them.",
    )
    object_types: list[str] = Field(
        default_factory=list, description="Type ids or names (contacts, 0-3, p_pets...); empty: every type."
    )
    record_ids: list[int] = Field(
        default_factory=list, description="With failed or deleted: only these records; empty: all of them."
    )


def resync_job_name(account: Account = DEFAULT_ACCOUNT) -> str:
    return "resync" if account.is_default else f"resync_{account.name}"


def build_resync_job(account: Account = DEFAULT_ACCOUNT) -> dg.JobDefinition:
    @dg.op(
        name=f"{resync_job_name(account)}_index",
        pool=account.pool,
        required_resource_keys={account.hubspot_key, account.store_key},
        description=f"Re-read records of the CRM index of {account.name!r} ({', '.join(WHICH)}).",
    )
    def resync_index(context: dg.OpExecutionContext, config: ResyncConfig) -> None:
        hubspot: HubSpotResource = getattr(context.resources, account.hubspot_key)
        export_store: ExportStoreResource = getattr(context.resources, account.store_key)
        try:
            request = ResyncRequest(config.which, tuple(config.object_types), tuple(config.record_ids))
        except ResyncError as exc:
            raise dg.Failure(str(exc)) from None
        manifest = load_manifest(export_store.destination())
        if manifest.watermark is None:
            raise dg.Failure("the CRM index has no first full sync yet: materialise hubspot/crm_index first")
        # the definitions of the last day the index is synced past: the plan the daily sync used
        day = (manifest.watermark - timedelta(milliseconds=1)).date()
        ctx = export_context(context, day, hubspot, export_store)
        plan = sync_plan(
            ctx.snapshot("schemas").data,
            ctx.snapshot("properties").data,
            ctx.snapshot("association_labels").data,
            selection=ctx.selection,
        )
        try:
            outcome = resync(ctx.client, ctx.destination, plan, request, context.run.run_id, context.log)
        except ResyncError as exc:
            raise dg.Failure(str(exc)) from None
        generation = outcome.generation
        assert generation is not None
        context.log_event(
            dg.AssetObservation(
                asset_key=crm_index_key(account),
                metadata={
                    "resync": config.which,
                    "generation": generation.id,
                    "api_calls": outcome.api_calls,
                    "types": dg.MetadataValue.json(generation.stats.get("types") or {}),
                },
            )
        )

    @dg.job(
        name=resync_job_name(account),
        description=(
            f"Resync the HubSpot account {account.name!r}: re-read failed records, re-check deleted ones, or "
            "re-read whole types (run config: which, object_types, record_ids)."
        ),
    )
    def resync_job() -> None:
        resync_index()

    return resync_job
