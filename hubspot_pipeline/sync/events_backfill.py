"""The events backfill mode: the account's whole event history, once, within a call budget, resumable.

Each event-bearing type is read as one windowed query (`occurredBefore` = when the backfill began;
later events are the daily runs'), oldest first, a page per call. State under `_state/events_backfill/`:
`progress.json` (the type being read, the newest `occurredAt` saved for it and the ids saved in its
last millisecond, the parts written, when the backfill began and whether it is done) and `part-<n>.parquet`
files of EVENT_SCHEMA rows. A part is saved every `flush_pages` pages and when the budget ends, and the
progress after it, so a run stopped by its budget or killed resumes from the newest saved instant
(`occurredAfter` 1 ms before it), dropping the ids it saved from there; a part written
but not yet in the progress is never read. Readers deduplicate by event id all the same. Resuming by
time, not by the API's paging cursor, keeps working when a cursor expires or records were deleted
between runs.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.hubspot.paging import cursor_pages
from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync.events import EVENT_SCHEMA, PAGE_SIZE, event_row
from hubspot_pipeline.sync.timestamps import iso_ms, parse_ts

PREFIX = "_state/events_backfill"
PROGRESS_KEY = f"{PREFIX}/progress.json"


@dataclass
class Progress:
    started_at: str | None = None
    type_id: str | None = None  # the type being read; types are read in the order given
    after_time: str | None = None  # the newest occurredAt saved for that type
    after_ids: list[str] = field(default_factory=list)  # the ids saved at exactly `after_time`
    done_types: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    done: bool = False
    events: int = 0
    calls: int = 0


@dataclass(frozen=True)
class BackfillReport:
    calls: int
    events: int
    done: bool
    progress: Progress


def load_progress(dest: Destination) -> Progress:
    """The saved progress; keys of an older layout are dropped (its type restarts: ids dedupe)."""
    raw = dest.get_bytes(PROGRESS_KEY)
    if not raw:
        return Progress()
    known = {f.name for f in fields(Progress)}
    return Progress(**{k: v for k, v in json.loads(raw).items() if k in known})


def run_backfill(
    dest: Destination, client: HubSpotClient, type_ids: Iterable[str], max_calls: int, flush_pages: int = 50
) -> BackfillReport:
    """Read the event history of `type_ids` (a fixed order) until done or `max_calls` are spent."""
    progress = load_progress(dest)
    if progress.done:
        return BackfillReport(0, 0, True, progress)
    progress.started_at = progress.started_at or iso_ms(datetime.now(UTC))
    spent = events = 0
    for type_id in type_ids:
        if type_id in progress.done_types:
            continue
        if progress.type_id != type_id:
            progress.type_id, progress.after_time, progress.after_ids = type_id, None, []
        params: dict[str, str] = {"objectType": type_id, "occurredBefore": progress.started_at}
        if progress.after_time:
            params["occurredAfter"] = _resume_from(progress.after_time)
        skip = set(progress.after_ids)
        if spent >= max_calls:
            return _stop(dest, progress, spent, events, done=False)
        rows: list[dict] = []
        pages = cursor_pages(client, "/events/v3/events", params, page_size=PAGE_SIZE)
        for n, (page, nxt) in enumerate(pages, start=1):
            spent += 1
            rows.extend(r for r in (event_row(e, type_id) for e in page) if r["id"] not in skip)
            if nxt is None:
                break
            if spent >= max_calls:  # stop before asking for the next page
                events += _save_part(dest, progress, rows)
                return _stop(dest, progress, spent, events, done=False)
            if n % flush_pages == 0:
                events += _save_part(dest, progress, rows)
                rows = []
        events += _save_part(dest, progress, rows)
        progress.done_types.append(type_id)
        progress.type_id, progress.after_time, progress.after_ids = None, None, []
        _write_progress(dest, progress)
    progress.done = True
    return _stop(dest, progress, spent, events, done=True)


def _stop(dest: Destination, progress: Progress, spent: int, events: int, done: bool) -> BackfillReport:
    progress.calls += spent
    _write_progress(dest, progress)
    return BackfillReport(spent, events, done, progress)


def _save_part(dest: Destination, progress: Progress, rows: list[dict]) -> int:
    """Save `rows` (oldest first) as the next part, then the progress that lists it; how many rows."""
    if not rows:
        return 0
    key = f"{PREFIX}/part-{len(progress.parts):05d}.parquet"
    fd, path = tempfile.mkstemp(suffix=".parquet")
    os.close(fd)
    try:
        pq.write_table(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA), path, compression="zstd")
        dest.put_file(key, path)
    finally:
        os.unlink(path)
    newest = max(r["occurred_at"] for r in rows)
    resume = _resume_from(newest)
    recent = [r["id"] for r in rows if r["occurred_at"] >= resume]
    kept = progress.after_ids if progress.after_time and progress.after_time >= resume else []
    progress.after_ids, progress.after_time = recent + kept, newest
    progress.parts.append(key)
    progress.events += len(rows)
    _write_progress(dest, progress)
    return len(rows)


def _resume_from(newest: str) -> str:
    """Where a resumed read starts: 1 ms before the newest saved instant, so that the instant is read
    again whether the API's `occurredAfter` is inclusive or exclusive (the ids saved from there on are
    dropped)."""
    return iso_ms(parse_ts(newest) - timedelta(milliseconds=1)) or newest


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
