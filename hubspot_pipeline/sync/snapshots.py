"""Dated snapshots of HubSpot endpoints that have no change feed, kept on the store under `_state/snapshots/`.

A snapshot is what one source (schemas, properties, owners, lists, list memberships, ...) answered when a
day was exported. Re-running a day reuses its snapshot, and a day exported for the first time after a
later day already was (a backfill) reuses the earliest later snapshot and filters it by creation time, so
projecting the past costs no API calls. Only a day with no snapshot on or after it fetches from HubSpot.

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
            return Snapshot(source, day, doc["fetched_at"], doc["data"])
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

    def save(self, day: date, source: str, data: Any, fetched_at: str) -> Snapshot:
        doc = {"source": source, "day": day.isoformat(), "fetched_at": fetched_at, "data": data}
        body = gzip.compress(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        self._dest.put_bytes(self._key(day, source, JSON_SUFFIX), body)
        return Snapshot(source, day, fetched_at, data)

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
