"""The events backfill mode: every record's whole event history, once, within a call budget, resumable.

State under `_state/events_backfill/`: `progress.json` (the cursor: object type and last record done,
the parts written so far, when the backfill began and whether it is done) and `part-<n>.parquet` files
of EVENT_SCHEMA rows. A record's events go into a part only when all of its pages were read, and the
cursor moves past a record only when its part is on the store (progress is written after the part), so
a run stopped by its budget or killed resumes at the first record not yet saved, and nothing is read
twice. Readers deduplicate by event id all the same.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync.events import EVENT_SCHEMA, PAGE_SIZE, event_row
from hubspot_pipeline.sync.timestamps import iso_ms

PREFIX = "_state/events_backfill"
PROGRESS_KEY = f"{PREFIX}/progress.json"


@dataclass
class Progress:
    started_at: str | None = None
    type_id: str | None = None  # the type being read; types are read in the order given
    after_id: int | None = None  # the last record of that type whose events are saved
    done_types: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    done: bool = False
    records: int = 0
    events: int = 0
    calls: int = 0


@dataclass(frozen=True)
class BackfillReport:
    calls: int
    records: int
    events: int
    done: bool
    progress: Progress


def load_progress(dest: Destination) -> Progress:
    raw = dest.get_bytes(PROGRESS_KEY)
    return Progress(**json.loads(raw)) if raw else Progress()


def run_backfill(
    dest: Destination,
    client: HubSpotClient,
    records_by_type: Iterable[tuple[str, Callable[[], Iterable[int]]]],
    max_calls: int,
    flush_records: int = 200,
) -> BackfillReport:
    """Read events record by record until every record is done or `max_calls` would be exceeded.

    `records_by_type` gives, per event-bearing object type in a fixed order, a callable returning its
    record ids in ascending order.
    """
    progress = load_progress(dest)
    if progress.done:
        return BackfillReport(0, 0, 0, True, progress)
    progress.started_at = progress.started_at or iso_ms(datetime.now(UTC))
    spent = 0
    pending: list[dict] = []
    pending_records = 0
    cursor = (progress.type_id, progress.after_id)

    def flush() -> None:
        nonlocal pending, pending_records
        if pending_records:
            _save_part(dest, progress, pending, cursor)
            progress.records += pending_records
            progress.events += len(pending)
        pending, pending_records = [], 0

    try:
        for type_id, ids in records_by_type:
            if type_id in progress.done_types:
                continue
            after = progress.after_id if progress.type_id == type_id else None
            for object_id in ids():
                if after is not None and object_id <= after:
                    continue
                events, used, complete = _record_history(client, type_id, object_id, max_calls - spent)
                spent += used
                if not complete:
                    flush()
                    return BackfillReport(spent, progress.records, progress.events, False, progress)
                pending.extend(events)
                pending_records += 1
                cursor = (type_id, object_id)
                if pending_records >= flush_records:
                    flush()
            flush()
            progress.done_types.append(type_id)
            progress.type_id, progress.after_id = None, None
            _write_progress(dest, progress)
        progress.done = True
        _write_progress(dest, progress)
        return BackfillReport(spent, progress.records, progress.events, True, progress)
    finally:
        flush()
        progress.calls += spent
        _write_progress(dest, progress)


def _record_history(
    client: HubSpotClient, type_id: str, object_id: int, budget: int
) -> tuple[list[dict], int, bool]:
    """One record's events, page by page; incomplete (and discarded) when the budget ends first."""
    events: list[dict] = []
    params: dict[str, str | int] = {"objectType": type_id, "objectId": str(object_id), "limit": PAGE_SIZE}
    used = 0
    while True:
        if used >= budget:
            return [], used, False
        page = client.get("/events/v3/events", params)
        used += 1
        events.extend(event_row(e, type_id, object_id) for e in page.get("results", []))
        after = ((page.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return events, used, True
        params["after"] = after


def _save_part(dest: Destination, progress: Progress, rows: list[dict], cursor: tuple) -> None:
    key = f"{PREFIX}/part-{len(progress.parts):05d}.parquet"
    fd, path = tempfile.mkstemp(suffix=".parquet")
    os.close(fd)
    try:
        pq.write_table(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA), path, compression="zstd")
        dest.put_file(key, path)
    finally:
        os.unlink(path)
    progress.parts.append(key)
    progress.type_id, progress.after_id = cursor
    _write_progress(dest, progress)


def _write_progress(dest: Destination, progress: Progress) -> None:
    dest.put_bytes(PROGRESS_KEY, json.dumps(asdict(progress), indent=1).encode())


def backfilled_events(dest: Destination, day: date) -> pa.Table:
    """The backfilled occurrences of one day (EVENT_SCHEMA), possibly with duplicate ids."""
    progress = load_progress(dest)
    start = iso_ms(datetime(day.year, day.month, day.day, tzinfo=UTC))
    end = iso_ms(datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1))
    tables = []
    for key in progress.parts:
        raw = dest.get_bytes(key)
        if raw is None:
            continue
        table = pq.read_table(pa.BufferReader(raw))
        at = table.column("occurred_at")
        tables.append(table.filter(pc.and_(pc.greater_equal(at, start), pc.less(at, end))))
    return pa.concat_tables(tables) if tables else EVENT_SCHEMA.empty_table()


def covers(dest: Destination, day_end: datetime) -> bool:
    """Whether a finished backfill already read every event that happened before `day_end`."""
    progress = load_progress(dest)
    return progress.done and progress.started_at is not None and iso_ms(day_end) <= progress.started_at
