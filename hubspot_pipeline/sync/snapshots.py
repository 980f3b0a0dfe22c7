"""Dated snapshots of HubSpot endpoints that have no change feed, kept on the store under `_state/snapshots/`.

A snapshot is what one source (schemas, properties, owners, lists, list memberships, ...) answered when a
day was exported. Re-running a day reuses its snapshot, and a day exported for the first time after a
later day already was (a backfill) reuses the earliest later snapshot and filters it by creation time, so
projecting the past costs no API calls. Only a day with no snapshot on or after it fetches from HubSpot.

Sources whose answer rarely changes (`sources.CADENCE`: properties, association labels, pipelines, event
types and definitions) are on a refresh cadence of K days (`HUBSPOT_DEFINITIONS_REFRESH_DAYS`, default 7;
1 is the exact mode, every day). A day with no snapshot of its own or later reuses the latest snapshot from
before it when that snapshot was fetched (not copied) less than K days earlier and was built from the same
basis (for object-type sources: the present object type ids, i.e. the non-archived custom schemas of the
day's `schemas` snapshot plus the standard types that answered; for event definitions: the day's event
type list). The reuse is saved as the day's own snapshot: a copy with the original `fetched_at` (so
INGESTEDAT says when HubSpot was actually read, and a re-run of the day reads the same thing) and
`copy_of` naming the day it was fetched for (so the K days count from the real fetch).

What the cadence costs in staleness: a new (or changed, or archived) property, association label,
pipeline, pipeline stage or custom event type shows up in the definition tables within K days of its
creation, or the day after at the latest when the object type list changes (a custom object type created
or archived refetches every object-type source on the first day `schemas` shows it). The CRM index reads a
new property (schema drift) when the properties snapshot shows it, so its values are read from then on
(the incremental sync's drift rules fill the property for existing records then). Schemas, account,
owners, teams, lists and list memberships are read every day. `ExportContext.refresh` always fetches.

Small sources are stored as gzip JSON; sources with one row per record (list memberships) as Parquet,
streamed in page by page so memory stays bounded by a page.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from hubspot_pipeline.store import Destination

PREFIX = "_state/snapshots"
JSON_SUFFIX = ".json.gz"
ROWS_SUFFIX = ".parquet"
_FETCHED_AT = b"fetched_at"


@dataclass(frozen=True)
class Snapshot:
    source: str
    day: date  # the day whose export fetched it
    fetched_at: str  # ISO ms Z: INGESTEDAT of the rows projected from it
    data: Any  # JSON data, or a pyarrow.Table for row sources
    # what the snapshot was built from (cadence sources; None: not recorded, so never reused)
    basis: Any = None
    # a copy saved for `day` of the snapshot fetched for this day (cadence reuse), or None: fetched for `day`
    copy_of: date | None = None

    @property
    def fetched_day(self) -> date:
        """The day whose export actually read HubSpot for this data."""
        return self.copy_of or self.day


class SnapshotStore:
    def __init__(self, destination: Destination) -> None:
        self._dest = destination

    @staticmethod
    def _key(day: date, source: str, suffix: str) -> str:
        return f"{PREFIX}/{day.isoformat()}/{source}{suffix}"

    def load(self, day: date, source: str) -> Snapshot | None:
        raw = self._dest.get_bytes(self._key(day, source, JSON_SUFFIX))
        if raw is not None:
            doc = json.loads(gzip.decompress(raw))
            copy_of = date.fromisoformat(doc["copy_of"]) if doc.get("copy_of") else None
            return Snapshot(source, day, doc["fetched_at"], doc["data"], doc.get("basis"), copy_of)
        raw = self._dest.get_bytes(self._key(day, source, ROWS_SUFFIX))
        if raw is not None:
            table = pq.read_table(pa.BufferReader(raw))
            fetched_at = (table.schema.metadata or {})[_FETCHED_AT].decode()
            return Snapshot(source, day, fetched_at, table.replace_schema_metadata(None))
        return None

    def load_on_or_after(self, day: date, source: str) -> Snapshot | None:
        """The snapshot of `day`, else the earliest one taken for a later day, else None."""
        exact = self.load(day, source)
        if exact is not None:
            return exact
        later = sorted(d for d in self._days_with(source) if d > day)
        return self.load(later[0], source) if later else None

    def load_latest_before(self, day: date, source: str) -> Snapshot | None:
        """The snapshot of the latest day before `day` that has one, else None."""
        earlier = [d for d in self._days_with(source) if d < day]
        return self.load(max(earlier), source) if earlier else None

    def _days_with(self, source: str) -> list[date]:
        days = []
        names = {source + JSON_SUFFIX, source + ROWS_SUFFIX}
        for info in self._dest.list(f"{PREFIX}/"):
            parts = info.key.split("/")
            if len(parts) >= 2 and parts[-1] in names:
                try:
                    days.append(date.fromisoformat(parts[-2]))
                except ValueError:
                    continue
        return days

    def save(
        self,
        day: date,
        source: str,
        data: Any,
        fetched_at: str,
        basis: Any = None,
        copy_of: date | None = None,
    ) -> Snapshot:
        doc: dict[str, Any] = {"source": source, "day": day.isoformat(), "fetched_at": fetched_at}
        if basis is not None:
            doc["basis"] = basis
        if copy_of is not None:
            doc["copy_of"] = copy_of.isoformat()
        doc["data"] = data
        body = gzip.compress(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        self._dest.put_bytes(self._key(day, source, JSON_SUFFIX), body)
        return Snapshot(source, day, fetched_at, data, basis, copy_of)

    def save_copy(self, day: date, snap: Snapshot) -> Snapshot:
        """Save `snap` (a JSON snapshot of an earlier day) as `day`'s, keeping its fetch time and fetch day."""
        return self.save(day, snap.source, snap.data, snap.fetched_at, snap.basis, snap.fetched_day)

    def save_rows(
        self, day: date, source: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], fetched_at: str
    ) -> Snapshot:
        """Stream record batches into one Parquet snapshot (via a local temp file), then upload it whole."""
        schema = schema.with_metadata({_FETCHED_AT: fetched_at.encode()})
        fd, path = tempfile.mkstemp(suffix=ROWS_SUFFIX)
        os.close(fd)
        try:
            with pq.ParquetWriter(path, schema, compression="zstd") as writer:
                for batch in batches:
                    writer.write_batch(batch)
            self._dest.put_file(self._key(day, source, ROWS_SUFFIX), path)
            table = pq.read_table(path)
        finally:
            os.unlink(path)
        return Snapshot(source, day, fetched_at, table.replace_schema_metadata(None))
