"""The code location: every table asset with its checks, the daily job and schedule, and the resources."""

import dagster as dg

from hubspot_pipeline.defs.assets import table_assets
from hubspot_pipeline.defs.jobs import daily_export_job, daily_export_schedule
from hubspot_pipeline.defs.resources import resources_from_env


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=table_assets,
        jobs=[daily_export_job],
        schedules=[daily_export_schedule],
        resources=resources_from_env(),
    )
