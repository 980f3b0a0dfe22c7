"""Event occurrences: which records to ask about, and the per-record reads of the events API.

HubSpot returns events one record at a time, so asking every record every day would spend the whole
budget. A daily run asks only about records whose activity moved that day: records with a history entry
on the day for one of `ACTIVITY_PROPERTIES` (HubSpot sets them from the same events: last page view,
last email open or click, last activity). Blind spots, kept in the README: events that move none of
these properties (an email delivery with no open, a custom event on an object without activity
properties) are found only by the backfill mode, which reads every record's whole event history.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime

import numpy as np
import pyarrow as pa

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sync.index_reader import IndexReader
from hubspot_pipeline.sync.timestamps import iso_ms

# Contact and company properties HubSpot moves when a behavioural event happens.
ACTIVITY_PROPERTIES: tuple[str, ...] = (
    "hs_last_activity_timestamp",
    "hs_analytics_last_timestamp",
    "hs_analytics_last_visit_timestamp",
    "hs_email_last_open_date",
    "hs_email_last_click_date",
    "hs_email_last_send_date",
    "recent_conversion_date",
    "hs_last_sales_activity_timestamp",
    "notes_last_updated",
)

EVENT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("event_type", pa.string()),
        ("object_type_id", pa.string()),
        ("object_id", pa.int64()),
        ("occurred_at", pa.string()),  # ISO ms Z, so text order is time order
        ("properties", pa.string()),  # compact JSON
    ]
)
PAGE_SIZE = 100
BATCH_ROWS = 5_000


def record_events(
    client: HubSpotClient, type_id: str, object_id: int, start: datetime | None, end: datetime | None
) -> Iterator[dict]:
    """Every occurrence of one record in [start, end) (None: unbounded), oldest first."""
    params: dict[str, str] = {"objectType": type_id, "objectId": str(object_id)}
    if start is not None:
        params["occurredAfter"] = iso_ms(start) or ""
    if end is not None:
        params["occurredBefore"] = iso_ms(end) or ""
    for page in client.paginate("/events/v3/events", params, page_size=PAGE_SIZE):
        yield from page


def event_row(event: dict, type_id: str, object_id: int) -> dict:
    """One API occurrence as an EVENT_SCHEMA row."""
    return {
        "id": str(event["id"]),
        "event_type": event["eventType"],
        "object_type_id": type_id,
        "object_id": int(event.get("objectId") or object_id),
        "occurred_at": iso_ms(event["occurredAt"]),
        "properties": json.dumps(
            event.get("properties") or {}, separators=(",", ":"), ensure_ascii=False, sort_keys=True
        ),
    }


def event_batches(
    client: HubSpotClient,
    records: Iterable[tuple[str, int]],
    start: datetime | None,
    end: datetime | None,
) -> Iterator[pa.RecordBatch]:
    """The occurrences of `records` as EVENT_SCHEMA batches."""
    rows: list[dict] = []
    for type_id, object_id in records:
        rows.extend(
            event_row(e, type_id, object_id) for e in record_events(client, type_id, object_id, start, end)
        )
        if len(rows) >= BATCH_ROWS:
            yield pa.RecordBatch.from_pylist(rows, schema=EVENT_SCHEMA)
            rows = []
    if rows:
        yield pa.RecordBatch.from_pylist(rows, schema=EVENT_SCHEMA)


def active_records(
    reader: IndexReader, type_ids: Iterable[str], names: Iterable[str], start: datetime, end: datetime
) -> list[tuple[str, int]]:
    """(type, id) of the records with a history entry in [start, end) for one of `names` that exist at
    `end`: a record deleted or merged away during the day is in no table of the day (OBJECTS, which
    EVENTS references), so its events are not read."""
    names = list(names)
    return [
        (t, int(i))
        for t in type_ids
        for i in np.intersect1d(reader.history_ids(t, names, start, end), reader.as_of_ids(t, end))
    ]
