"""The daily index sync: a full sync for an empty index, else an incremental one, then compaction
once enough generations have piled up. Every caller (the `crm_index` asset, benchmarks, tests) goes
through `sync_index`, so each run follows the same rules."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync.compaction import compact_index
from hubspot_pipeline.sync.full_sync import SyncOutcome, SyncPlan, full_sync
from hubspot_pipeline.sync.incremental import IncrementalSettings, incremental_sync
from hubspot_pipeline.sync.index import load_manifest
from hubspot_pipeline.sync.journal import Journal
from hubspot_pipeline.sync.timestamps import iso_ms


def sync_index(
    destination: Destination,
    as_of: datetime,
    run_id: str,
    client_factory: Callable[[], HubSpotClient],
    plan_factory: Callable[[], SyncPlan],
    log: logging.Logger | None = None,
    settings: IncrementalSettings | None = None,
    journal_factory: Callable[[HubSpotClient], Journal] | None = None,
) -> SyncOutcome:
    """Bring the index past `as_of`: nothing to do (and no call) when it already is, a full sync for
    an empty index, else an incremental one, compacted when `settings.compact_after` generations
    have piled up since the last compaction. `journal_factory` (the deployment gives an app's client
    credentials) opens HubSpot's webhooks journal beside the client for the incremental sync."""
    log = log or logging.getLogger(__name__)
    manifest = load_manifest(destination)
    if manifest.synced_past(as_of):
        log.info("index synced up to %s, past %s: no sync needed", iso_ms(manifest.watermark), iso_ms(as_of))
        return SyncOutcome(False, manifest)
    if not manifest.generations:
        return full_sync(client_factory(), destination, plan_factory(), manifest, run_id, log)
    settings = settings or IncrementalSettings()
    client = client_factory()
    journal = journal_factory(client) if journal_factory is not None else None
    outcome = incremental_sync(
        client, destination, plan_factory(), manifest, run_id, as_of, log, settings, journal
    )
    if outcome.manifest.since_compaction() >= settings.compact_after:
        outcome = replace(outcome, manifest=compact_index(destination, run_id, log=log))
    return outcome
