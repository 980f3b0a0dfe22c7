"""Event occurrences of a day: one windowed read per object type that carries events.

HubSpot's events API answers a query by `objectType` and an `occurredAfter`/`occurredBefore` window
across every record of the type (its guide: "objectType: retrieve occurrences linked to records of a
specific object"; `objectId` narrows it to one record). So a day costs a page per 100 of its
occurrences per event-bearing type, whatever the records, and no event is missed for moving no
activity property. The types asked are those with HubSpot's activity properties (`ACTIVITY_PROPERTIES`,
which the same events move) and the primary objects of the account's custom event definitions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime

import numpy as np
import pyarrow as pa

from hubspot_pipeline.hubspot import HubSpotClient, HubSpotError
from hubspot_pipeline.sync.event_types import EventTypeInfo
from hubspot_pipeline.sync.object_types import ObjectTypeInfo
from hubspot_pipeline.sync.timestamps import iso_ms

# Properties HubSpot moves when a behavioural event happens: the types that have them carry events.
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

KeptRecords = Callable[[str], np.ndarray]  # type id -> the record ids whose events are kept


def type_events(client: HubSpotClient, type_id: str, start: datetime, end: datetime) -> Iterator[dict]:
    """Every occurrence linked to a record of `type_id` in [start, end), oldest first."""
    params = {
        "objectType": type_id,
        "occurredAfter": iso_ms(start) or "",
        "occurredBefore": iso_ms(end) or "",
    }
    for page in client.paginate("/events/v3/events", params, page_size=PAGE_SIZE):
        yield from page


def event_row(event: dict, type_id: str, object_id: int | None = None) -> dict:
    """One API occurrence as an EVENT_SCHEMA row; `object_id` is the record asked about, if one was."""
    record = str(event.get("objectId") or object_id or "")
    missing = [k for k in ("id", "eventType", "occurredAt") if not event.get(k)]
    if missing or not record.isdigit():
        raise HubSpotError(
            f"an event occurrence of object type {type_id} came back without a valid "
            f"{', '.join(missing or ['objectId'])}: {json.dumps(event, default=str)[:300]}",
            endpoint="GET /events/v3/events",
        )
    return {
        "id": str(event["id"]),
        "event_type": event["eventType"],
        "object_type_id": type_id,
        "object_id": int(record),
        "occurred_at": iso_ms(event["occurredAt"]),
        "properties": json.dumps(
            event.get("properties") or {}, separators=(",", ":"), ensure_ascii=False, sort_keys=True
        ),
    }


def event_batches(
    client: HubSpotClient, type_ids: Iterable[str], start: datetime, end: datetime, kept: KeptRecords
) -> Iterator[pa.RecordBatch]:
    """The occurrences of [start, end) of `type_ids` as EVENT_SCHEMA batches, only those of records
    `kept(type_id)` holds (the ids existing at `end`: a record deleted or merged away during the day is
    in no table of the day, OBJECTS included, which EVENTS references)."""
    for type_id in type_ids:
        ids = kept(type_id)
        rows: list[dict] = []
        for event in type_events(client, type_id, start, end):
            rows.append(event_row(event, type_id))
            if len(rows) >= BATCH_ROWS:
                yield _kept(pa.RecordBatch.from_pylist(rows, schema=EVENT_SCHEMA), ids)
                rows = []
        if rows:
            yield _kept(pa.RecordBatch.from_pylist(rows, schema=EVENT_SCHEMA), ids)


def _kept(batch: pa.RecordBatch, ids: np.ndarray) -> pa.RecordBatch:
    return batch.filter(pa.array(np.isin(batch.column("object_id").to_numpy(), ids)))


def event_bearing_types(
    types: Iterable[ObjectTypeInfo], properties: Mapping[str, list[dict]], infos: Iterable[EventTypeInfo]
) -> list[str]:
    """The types to ask about: those with an activity property, and custom events' primary objects."""
    primary = {i.primary_object.upper() for i in infos if i.primary_object}
    return [
        t.type_id
        for t in types
        if t.singular.upper() in primary
        or {p["name"] for p in properties.get(t.type_id, [])}.intersection(ACTIVITY_PROPERTIES)
    ]
