"""The events backfill job: read the account's whole event history once, within a call budget per run.

Run it (Launchpad of `events_backfill`, or `dagster job execute -j events_backfill`) as often as needed:
each run resumes where the last one stopped. Then re-materialise the EVENTS partitions of past days:
their occurrences come from what the backfill saved, deduplicated by event id.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from hubspot_pipeline.defs.assets import HUBSPOT_POOL
from hubspot_pipeline.defs.context import export_context
from hubspot_pipeline.defs.resources import ExportStoreResource, HubSpotResource
from hubspot_pipeline.sync.events import event_bearing_types
from hubspot_pipeline.sync.events_backfill import run_backfill
from hubspot_pipeline.tables.definition_tables import account_event_types, object_types


class EventsBackfillConfig(dg.Config):
    max_calls: int = 10_000


@dg.op(pool=HUBSPOT_POOL, description="Read the whole event history of the account, within max_calls.")
def backfill_event_history(
    context: dg.OpExecutionContext,
    config: EventsBackfillConfig,
    hubspot: HubSpotResource,
    export_store: ExportStoreResource,
) -> None:
    now = datetime.now(UTC)
    ctx = export_context(context, (now - timedelta(days=1)).date(), hubspot, export_store)
    types = event_bearing_types(object_types(ctx), ctx.snapshot("properties").data, account_event_types(ctx))
    report = run_backfill(ctx.destination, ctx.client, types, config.max_calls)
    context.log.info(
        "events backfill: %d calls, %d events this run; %s",
        report.calls,
        report.events,
        "finished" if report.done else "stopped at its budget, run it again to resume",
    )


@dg.job(description="Read the account's whole event history once, resumable, within a call budget.")
def events_backfill() -> None:
    backfill_event_history()
