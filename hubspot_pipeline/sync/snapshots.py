"""Dated snapshots of HubSpot's definition endpoints, kept on the store under `_state/snapshots/`.

A snapshot is what one source (schemas, properties, owners, ...) answered when a day was exported.
Re-running a day reuses its snapshot, and a day exported for the first time after a later day already
was (a backfill) reuses the earliest later snapshot and filters it by creation time, so projecting the
past costs no API calls. Only a day with no snapshot on or after it fetches from HubSpot.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from hubspot_pipeline.store import Destination

PREFIX = "_state/snapshots"


@dataclass(frozen=True)
class Snapshot:
    source: str
    day: date  # the day whose export fetched it
    fetched_at: str  # ISO ms Z: INGESTEDAT of the rows projected from it
    data: Any


class SnapshotStore:
    def __init__(self, destination: Destination) -> None:
        self._dest = destination

    @staticmethod
    def _key(day: date, source: str) -> str:
        return f"{PREFIX}/{day.isoformat()}/{source}.json.gz"

    def load(self, day: date, source: str) -> Snapshot | None:
        raw = self._dest.get_bytes(self._key(day, source))
        if raw is None:
            return None
        doc = json.loads(gzip.decompress(raw))
        return Snapshot(source, day, doc["fetched_at"], doc["data"])

    def load_on_or_after(self, day: date, source: str) -> Snapshot | None:
        """The snapshot of `day`, else the earliest one taken for a later day, else None."""
        exact = self.load(day, source)
        if exact is not None:
            return exact
        later = sorted(d for d in self._days_with(source) if d > day)  # few hundred days at most: one listing
        return self.load(later[0], source) if later else None

    def _days_with(self, source: str) -> list[date]:
        days = []
        for info in self._dest.list(f"{PREFIX}/"):
            parts = info.key.split("/")
            if len(parts) >= 2 and parts[-1] == f"{source}.json.gz":
                try:
                    days.append(date.fromisoformat(parts[-2]))
                except ValueError:
                    continue
        return days

    def save(self, day: date, source: str, data: Any, fetched_at: str) -> Snapshot:
        doc = {"source": source, "day": day.isoformat(), "fetched_at": fetched_at, "data": data}
        body = gzip.compress(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        self._dest.put_bytes(self._key(day, source), body)
        return Snapshot(source, day, fetched_at, data)
