"""The account's component, declared in the defs folder so `dg utils refresh-defs-state` finds it."""

import dagster as dg

from hubspot_pipeline.defs.account_component import HubSpotAccountComponent, default_account


@dg.component_instance
def hubspot_account(context: dg.ComponentLoadContext) -> HubSpotAccountComponent:
    return default_account
