"""Describe the account for its state (which per-type tables get an asset) from the export store.

`make refresh` (`dg utils refresh-defs-state`) runs it through the account's component
(`account_component`); reload the code location afterwards (the UI's "Reload" button, or restart
`make ui`). It describes the account as of yesterday from what the export store holds: no HubSpot
call once a day has been exported; on an empty store it fetches the definitions it needs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hubspot_pipeline.defs.account_state import AccountState, describe_account
from hubspot_pipeline.defs.resources import ExportStoreResource, HubSpotResource
from hubspot_pipeline.sync.index_reader import IndexReader
from hubspot_pipeline.tables.context import ExportContext


def describe_from_store(
    hubspot: HubSpotResource, export_store: ExportStoreResource, day: date | None = None
) -> AccountState:
    destination = export_store.destination()
    if day is None:
        day = datetime.now(UTC).date() - timedelta(days=1)
        watermark = IndexReader(destination).manifest.watermark
        if watermark is not None:  # as of the last day the index is synced past
            day = min(day, (watermark - timedelta(milliseconds=1)).date())
    ctx = ExportContext(
        day=day,
        destination=destination,
        run_id="refresh",
        client_factory=hubspot.client,
        selection=hubspot.selection(),
    )
    return describe_account(ctx)
