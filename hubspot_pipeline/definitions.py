"""The code location: every table asset with its checks, the CRM index, jobs, schedules, sensors and
resources of each HubSpot account (a state-backed component, `defs.account_component`): the default
one, and each HUBSPOT_ACCOUNTS adds (`defs.accounts_config`)."""

import dagster as dg

from hubspot_pipeline.defs.account_component import account_components
from hubspot_pipeline.defs.alerts import alert_sensors
from hubspot_pipeline.defs.dead_runs import fail_dead_runs_of_this_instance
from hubspot_pipeline.defs.events_backfill import events_backfill


@dg.definitions
def defs() -> dg.Definitions:
    # every process that loads the code location (run workers included) first frees what a killed
    # run still holds, so no run waits forever for the HubSpot pool
    fail_dead_runs_of_this_instance()
    return dg.Definitions.merge(
        *(component.load_defs() for component in account_components()),
        dg.Definitions(
            jobs=[events_backfill],
            sensors=alert_sensors,
            # every step in its run's process (jobs, `dagster asset materialize`, the UI's buttons): a
            # process per step cost more than most steps' work, and steps of a run run one by one
            # anyway behind the account's one-slot HubSpot pool
            executor=dg.in_process_executor,
        ),
    )
