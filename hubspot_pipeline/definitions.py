"""The code location: every table asset with its checks, the CRM index, jobs, the schedule, and the resources."""

import dagster as dg

from hubspot_pipeline.defs.assets import table_assets
from hubspot_pipeline.defs.dead_runs import fail_dead_runs_of_this_instance
from hubspot_pipeline.defs.events_backfill import events_backfill
from hubspot_pipeline.defs.jobs import daily_export_job, daily_export_schedule
from hubspot_pipeline.defs.resources import resources_from_env
from hubspot_pipeline.defs.sync_asset import crm_index


@dg.definitions
def defs() -> dg.Definitions:
    # every process that loads the code location (run workers included) first frees what a killed
    # run still holds, so no run waits forever for the HubSpot pool
    fail_dead_runs_of_this_instance()
    return dg.Definitions(
        assets=[crm_index, *table_assets],
        jobs=[daily_export_job, events_backfill],
        schedules=[daily_export_schedule],
        resources=resources_from_env(),
    )
