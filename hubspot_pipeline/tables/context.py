"""The context a table is produced in: the day, the store, the state, and a lazily opened HubSpot client."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from hubspot_pipeline import settings
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync.index import load_manifest
from hubspot_pipeline.sync.index_reader import IndexReader
from hubspot_pipeline.sync.rows import Rows
from hubspot_pipeline.sync.selection import EVERYTHING, Selection
from hubspot_pipeline.sync.snapshots import Snapshot, SnapshotStore
from hubspot_pipeline.sync.sources import CADENCE, INCREMENTAL, SOURCES
from hubspot_pipeline.sync.timestamps import iso_ms, parse_ts


@dataclass
class ExportContext:
    day: date
    destination: Destination
    run_id: str
    client_factory: Callable[[], HubSpotClient]
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("hubspot_pipeline"))
    max_part_bytes: int = 15 * 1024 * 1024
    # re-fetch definition snapshots even when the day already has them
    refresh: bool = False
    # the sync settings (HUBSPOT_SYNC_SETTINGS): which types, properties and records the CRM tables hold
    selection: Selection = EVERYTHING
    # definition sources whose answer rarely changes (`sources.CADENCE`) are re-read at least every this
    # many days, and the day the object type list changes (HUBSPOT_DEFINITIONS_REFRESH_DAYS); 1: every day.
    # What that costs in staleness: see `sync.snapshots`.
    definitions_refresh_days: int = int(settings.SETTINGS["HUBSPOT_DEFINITIONS_REFRESH_DAYS"].default)
    _client: HubSpotClient | None = field(default=None, init=False, repr=False)
    _snapshots: dict[str, Snapshot] = field(default_factory=dict, init=False, repr=False)

    @property
    def as_of(self) -> datetime:
        """The end of the partition's day (exclusive): everything strictly before it is in the export."""
        return datetime.combine(self.day + timedelta(days=1), time(0), tzinfo=UTC)

    @property
    def client(self) -> HubSpotClient:
        if self._client is None:
            self._client = self.client_factory()
        return self._client

    @property
    def api_calls(self) -> int:
        return self._client.total_calls() if self._client is not None else 0

    @property
    def state(self) -> SnapshotStore:
        return SnapshotStore(self.destination)

    def snapshot(self, source: str) -> Snapshot:
        """The day's snapshot of one definition source, fetched (with what it needs) only if none exists.

        A day with a snapshot of its own or later reads it (re-runs, backfills). Otherwise a cadence
        source reuses its latest earlier snapshot when that was fetched less than
        `definitions_refresh_days` days before and from the same basis (see `sync.snapshots`), saving a
        copy as the day's; anything else is fetched from HubSpot.
        """
        if source in self._snapshots:
            return self._snapshots[source]
        snap = None if self.refresh else self.state.load_on_or_after(self.day, source)
        if snap is None:
            needs, fetch = SOURCES[source]
            deps = {name: self.snapshot(name).data for name in needs}
            if source in INCREMENTAL and not self.refresh:
                deps.update(self._previous(source, needs))
            snap = None if self.refresh else self._reuse(source, deps)
            if snap is None:
                fetched_at = iso_ms(datetime.now(UTC))
                self.log.info("fetching %s from HubSpot for %s", source, self.day)
                answer = fetch(self.client, deps)
                if isinstance(answer, Rows):
                    snap = self.state.save_rows(self.day, source, answer.schema, answer.batches, fetched_at)
                else:
                    basis = CADENCE[source](deps, answer) if source in CADENCE else None
                    snap = self.state.save(self.day, source, answer, fetched_at, basis)
        elif snap.day != self.day:
            self.log.info("%s for %s projected from the snapshot taken for %s", source, self.day, snap.day)
        self._snapshots[source] = snap
        return snap

    def _previous(self, source: str, needs: tuple[str, ...]) -> dict[str, object]:
        """What an incremental source builds on (`sources.INCREMENTAL`): its latest earlier snapshot."""
        found: dict[str, object] = {
            "day": self.day,
            "refresh_days": self.definitions_refresh_days,
            "selection": self.selection,
            "index": self._index(),
        }
        prev = self.state.load_latest_before(self.day, source)
        if prev is not None:
            found["previous"] = prev.data
            found["previous_fetched_at"] = prev.fetched_at
            for name in needs:
                earlier = self.state.load(prev.day, name)
                found[f"previous_{name}"] = earlier.data if earlier is not None else None
        return found

    def _index(self) -> Callable[[], IndexReader | None]:
        """The CRM index as it stands, opened on the first call; None before its first sync."""

        @functools.cache
        def opened() -> IndexReader | None:
            manifest = load_manifest(self.destination)
            return IndexReader(self.destination, manifest) if manifest.watermark is not None else None

        return opened

    def _reuse(self, source: str, deps: dict[str, object]) -> Snapshot | None:
        """A copy, saved as the day's, of the latest earlier snapshot if the cadence allows, else None."""
        days = self.definitions_refresh_days
        if days <= 1 or source not in CADENCE:
            return None
        prev = self.state.load_latest_before(self.day, source)
        if prev is None or prev.basis is None:
            return None
        fetched_day = prev.fetched_day
        if (self.day - fetched_day).days >= days:
            return None
        if CADENCE[source](deps, prev.data) != prev.basis:
            self.log.info(
                "%s for %s: the types it covers changed since the snapshot fetched for %s, refetching",
                source,
                self.day,
                fetched_day,
            )
            return None
        self.log.info(
            "%s for %s reused from the snapshot fetched for %s (refresh every %d days)",
            source,
            self.day,
            fetched_day,
            days,
        )
        return self.state.save_copy(self.day, prev)

    @property
    def account_id(self) -> str:
        return str(self.snapshot("account").data.get("portalId", ""))

    def created_by_day_end(self, created_at: str | None) -> bool:
        """Whether a definition existed at the end of the day (no creation time: assume it did)."""
        return created_at is None or parse_ts(created_at) < self.as_of
