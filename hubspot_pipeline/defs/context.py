"""The export context of one Dagster step: the day, the store and a HubSpot client opened on first use."""

from datetime import date

import dagster as dg

from hubspot_pipeline.defs.resources import ExportStoreResource, HubSpotResource
from hubspot_pipeline.tables.context import ExportContext


def export_context(
    context: dg.OpExecutionContext, day: date, hubspot: HubSpotResource, export_store: ExportStoreResource
) -> ExportContext:
    return ExportContext(
        day=day,
        destination=export_store.destination(),
        run_id=context.run.run_id,
        client_factory=hubspot.client,
        log=context.log,
        max_part_bytes=export_store.max_part_bytes,
        selection=hubspot.selection(),
        definitions_refresh_days=hubspot.definitions_refresh_days,
    )
