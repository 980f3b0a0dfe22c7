"""Everything one HubSpot account contributes to the code location: its CRM index and table assets,
its daily job and schedule, and its resources (HubSpot client, export store, table IO manager)."""

from __future__ import annotations

from typing import Any

import dagster as dg

from hubspot_pipeline.defs.account import Account
from hubspot_pipeline.defs.account_state import AccountState
from hubspot_pipeline.defs.assets import build_table_assets
from hubspot_pipeline.defs.resources import ExportStoreResource, HubSpotResource
from hubspot_pipeline.defs.resync_job import build_resync_job
from hubspot_pipeline.defs.sync_asset import build_crm_index
from hubspot_pipeline.defs.table_io import TableIOManager


def account_resources(
    account: Account, hubspot: HubSpotResource, export_store: ExportStoreResource
) -> dict[str, Any]:
    return {
        account.hubspot_key: hubspot,
        account.store_key: export_store,
        account.io_manager_key: TableIOManager(export_store=export_store),
    }


def account_assets(account: Account, state: AccountState | None) -> list[dg.AssetsDefinition]:
    return [build_crm_index(account), *build_table_assets(state, account)]


def account_definitions(
    account: Account, state: AccountState | None, resources: dict[str, Any]
) -> dg.Definitions:
    job = dg.define_asset_job(
        account.job_name,
        selection=dg.AssetSelection.key_prefixes([account.key_prefix]),
        description=f"Export one day of the HubSpot account {account.name!r}: every table, with its checks.",
    )
    # A tick at 01:30 UTC requests the partition of the day that just ended, with run_key = that day,
    # so a repeated tick never exports a day twice.
    schedule = dg.build_schedule_from_partitioned_job(
        job, hour_of_day=1, minute_of_hour=30, default_status=dg.DefaultScheduleStatus.RUNNING
    )
    return dg.Definitions(
        assets=account_assets(account, state),
        jobs=[job, build_resync_job(account)],
        schedules=[schedule],
        resources=resources,
    )
