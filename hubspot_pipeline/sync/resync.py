"""Resync: re-read records on demand, as HubSpot's data sync offers it, into a new index generation.

- `failed`: the records whose last read failed (`failed_records`), now, whatever their attempts (or
  the record ids given, failed or not): those that read fine leave FAILED.
- `deleted`: the tombstones (archived or merged-away records) are read again as live records; one
  HubSpot restored from its recycle bin comes back, with its associations re-read, from the next
  synced day on. Those still archived stay tombstones.
- `all`: the types read whole (records, history, associations both ways) by the full sync's own code,
  checkpointed like it, into a generation that *replaces* their state: from the next synced day on
  their records come from it (and later generations) only.

A resync generation keeps the index's watermark: the daily sync's change search goes on from where
it was (a resync between two daily runs must not make the next one skip the changes in between), and
a day already synced keeps its export; the next synced day is the first to show what it read (a
record no sync had read before fills in the days before too, from its history). Like the daily sync,
its manifest is written last, so a killed resync leaves the index as it was, and running it again
does the same work once more (for `all`, from its checkpoints).
"""

from __future__ import annotations

import logging
import tempfile
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync import failed_records
from hubspot_pipeline.sync.association_refresh import AssociationRefresh
from hubspot_pipeline.sync.failed_records import FailureLog
from hubspot_pipeline.sync.full_sync import (
    SyncOutcome,
    SyncPlan,
    Watermark,
    _carried,
    _last_properties,
    full_sync,
)
from hubspot_pipeline.sync.incremental import read_part
from hubspot_pipeline.sync.index import Generation, IndexManifest, generation_id, load_manifest, save_manifest
from hubspot_pipeline.sync.index_reader import IndexReader
from hubspot_pipeline.sync.object_types import ObjectTypeInfo
from hubspot_pipeline.sync.timestamps import iso_ms, parse_ts

WHICH = ("failed", "deleted", "all")


class ResyncError(ValueError):
    """A resync asked for what cannot be done: names the setting and what to give instead."""


@dataclass(frozen=True)
class ResyncRequest:
    which: str = "failed"
    object_types: tuple[str, ...] = ()  # type ids or names; empty: every type the index syncs
    record_ids: tuple[int, ...] = ()  # `failed` or `deleted` only: just these records

    def __post_init__(self) -> None:
        if self.which not in WHICH:
            raise ResyncError(f"resync which: {self.which!r} is not one of {', '.join(WHICH)}")
        if self.record_ids and self.which == "all":
            raise ResyncError("resync record_ids go with which: failed or deleted (all re-reads whole types)")


def chosen_types(plan: SyncPlan, names: Sequence[str]) -> list[ObjectTypeInfo]:
    """The plan's types a request names (all of them for none), in the plan's order."""
    if not names:
        return list(plan.types)
    wanted: set[str] = set()
    for name in names:
        match = [
            t
            for t in plan.types
            if name == t.type_id
            or name.lower() in {t.name.lower(), t.singular.lower(), t.fully_qualified_name.lower()}
        ]
        if not match:
            known = ", ".join(f"{t.name} ({t.type_id})" for t in plan.types)
            raise ResyncError(
                f"resync object_types: {name!r} is not a type the index syncs; use one of {known}"
            )
        wanted.add(match[0].type_id)
    return [t for t in plan.types if t.type_id in wanted]


def resync(
    client: HubSpotClient,
    destination: Destination,
    plan: SyncPlan,
    request: ResyncRequest,
    run_id: str,
    log: logging.Logger | None = None,
) -> SyncOutcome:
    log = log or logging.getLogger(__name__)
    manifest = load_manifest(destination)
    if not manifest.generations:
        raise ResyncError("the CRM index has no first full sync yet: materialise hubspot/crm_index first")
    types = chosen_types(plan, request.object_types)
    if request.which == "all":
        return _resync_all(client, destination, plan, manifest, types, run_id, log)
    return _reread(client, destination, plan, manifest, types, request, run_id, log)


def _resync_all(
    client: HubSpotClient,
    destination: Destination,
    plan: SyncPlan,
    manifest: IndexManifest,
    types: list[ObjectTypeInfo],
    run_id: str,
    log: logging.Logger,
) -> SyncOutcome:
    ids = {t.type_id for t in types}
    reader = IndexReader(destination, manifest)
    # pairs from another type into these: that type's live ids come from the index
    known = {
        t.type_id: array("q", reader.live_ids(t.type_id).tolist()) for t in plan.types if t.type_id not in ids
    }
    pairs = [p for p in plan.pairs if p[0] in ids or p[1] in ids]
    part = SyncPlan(
        types, {t: plan.properties[t] for t in ids}, pairs, {t: plan.calculated.get(t, []) for t in ids}
    )
    log.info("resync all of %s: every record, its history and associations", ", ".join(t.name for t in types))
    return full_sync(client, destination, part, manifest, run_id, log, replaces=sorted(ids), known_live=known)


def _reread(
    client: HubSpotClient,
    destination: Destination,
    plan: SyncPlan,
    manifest: IndexManifest,
    types: list[ObjectTypeInfo],
    request: ResyncRequest,
    run_id: str,
    log: logging.Logger,
) -> SyncOutcome:
    """`failed` or `deleted`: the chosen records read again into a `delta` generation."""
    last = manifest.generations[-1]
    reader = IndexReader(destination, manifest)
    failed_before = failed_records.of_generation(destination, last)
    gen = generation_id(manifest.next_position(), run_id)
    ingested_at = iso_ms(datetime.now(UTC)) or ""
    calls_before = client.total_calls()
    watermark = Watermark()
    failures = FailureLog()
    given = np.unique(np.array(request.record_ids, dtype=np.int64))
    segments, stats = [], {}
    live_now: dict[str, np.ndarray] = {}
    restored: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory(prefix="hubspot-resync-") as tmp:
        for info in types:
            tid, props = info.type_id, plan.properties[info.type_id]
            if request.which == "failed":
                parts = {
                    "live": failed_records.ids_of(failed_before, tid, "live"),
                    "archived": failed_records.ids_of(failed_before, tid, "archived"),
                }
                if len(given):
                    parts = {
                        "live": np.setdiff1d(given, parts["archived"]),
                        "archived": np.intersect1d(given, parts["archived"]),
                    }
            else:
                live_now[tid] = reader.live_ids(tid)
                tombstones = reader.tombstones(tid, live_now[tid])
                parts = {"live": np.intersect1d(tombstones, given) if len(given) else tombstones}
            found = {}
            for part, ids in parts.items():
                if len(ids):
                    done = read_part(
                        client, destination, reader, gen, tid, part, ids, props, tmp, watermark, failures
                    )
                    segments.append(done.segment)
                    found[part] = done.ids
            read_live = found.get("live", np.array([], dtype=np.int64))
            if request.which == "deleted":
                restored[tid] = read_live
                live_now[tid] = np.union1d(live_now[tid], read_live).astype(np.int64)
            stats[tid] = {
                "asked": int(sum(len(v) for v in parts.values())),
                "read": int(sum(len(v) for v in found.values())),
            }
            log.info(
                "resync %s of %s: %d asked, %d read",
                request.which,
                info.name,
                stats[tid]["asked"],
                stats[tid]["read"],
            )
        associations = []
        if any(len(v) for v in restored.values()):
            for info in plan.types:  # the pairs' other ends, as the index holds them
                if info.type_id not in live_now:
                    live_now[info.type_id] = reader.live_ids(info.type_id)
            refresh = AssociationRefresh(client, reader, watermark, 1, 0, live_now, restored, only_new=True)
            associations = refresh.run(destination, gen, plan.pairs, tmp)
    failed = failed_records.settle(
        destination,
        gen,
        failed_before,
        failures,
        parse_ts(ingested_at),
        [t.type_id for t in plan.types],
        stats,
        int(last.stats.get(failed_records.RETRY_DAYS_KEY) or failed_records.DEFAULT_RETRY_DAYS),
    )
    generation = Generation(
        id=gen,
        kind="delta",
        run_id=run_id,
        watermark=iso_ms(manifest.watermark) or last.watermark,
        ingested_at=ingested_at,
        segments=segments,
        associations=associations,
        stats={
            **_carried(manifest),
            "resync": request.which,
            "read_at": watermark.result(datetime.now(UTC)),
            "api_calls": client.total_calls() - calls_before,
            "types": stats,
            "properties": _last_properties(manifest),
            **failed,
        },
    )
    updated = manifest.with_generation(generation)
    save_manifest(destination, updated)
    log.info(
        "index generation %s (resync %s): %d API calls", gen, request.which, generation.stats["api_calls"]
    )
    return replace(SyncOutcome(True, updated, generation), api_calls=int(generation.stats["api_calls"]))
