"""The daily export job (every table asset) and the schedule that runs yesterday's partition each day."""

import dagster as dg

daily_export_job = dg.define_asset_job(
    "daily_export",
    selection=dg.AssetSelection.all(),
    description="Export one day of the HubSpot account: every table, with its checks.",
)

# A tick at 01:30 UTC requests the partition of the day that just ended, with run_key = that day,
# so a repeated tick never exports a day twice.
daily_export_schedule = dg.build_schedule_from_partitioned_job(
    daily_export_job,
    hour_of_day=1,
    minute_of_hour=30,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
