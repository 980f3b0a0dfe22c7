"""Fetchers for lists (segments) and their memberships.

The v3 lists search pages by offset (500 lists a page); memberships page by cursor (250 a page) and
come back as rows of a Parquet snapshot, one page at a time, so a list of millions stays out of memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sync.rows import Rows
from hubspot_pipeline.sync.timestamps import iso_ms

LIST_PROPERTIES = ["hs_list_size", "hs_last_record_added_at", "hs_last_record_removed_at"]
MEMBERSHIP_SCHEMA = pa.schema(
    [
        ("list_id", pa.string()),
        ("record_id", pa.int64()),
        ("added_at", pa.string()),
        ("paged_on", pa.string()),  # the day the list's members were read (kept rows keep theirs)
    ]
)


def fetch_lists(client: HubSpotClient, deps: Mapping[str, Any]) -> list[dict]:
    body = {"query": "", "additionalProperties": LIST_PROPERTIES}
    lists: dict[str, dict] = {}
    for page in client.paginate_offset("/crm/v3/lists/search", body, items_key="lists", count=500):
        for item in page:
            lists.setdefault(str(item["listId"]), item)
    return [lists[k] for k in sorted(lists, key=int)]


def fetch_list_memberships(client: HubSpotClient, deps: Mapping[str, Any]) -> Rows:
    """Every list's members. With the previous day's snapshot (`deps["previous"]`, its rows and the lists
    it was paged for), a list whose size and last-added and last-removed times are unchanged keeps its
    rows from it; the others are paged again, and every list at least every `deps["refresh_days"]` days
    (HubSpot's change markers are trusted for that long)."""
    previous: pa.Table | None = deps.get("previous")
    before = {str(item["listId"]): _markers(item) for item in deps.get("previous_lists") or []}
    day: date | None = deps.get("day")
    every = int(deps.get("refresh_days") or 1)

    def batches() -> Iterator[pa.RecordBatch]:
        for item in deps["lists"]:
            list_id = str(item["listId"])
            kept = _unchanged(previous, list_id, before.get(list_id), _markers(item), day, every)
            if kept is not None:
                yield from kept.to_batches()
                continue
            for page in client.paginate(f"/crm/v3/lists/{list_id}/memberships", page_size=250):
                n = len(page)
                yield pa.RecordBatch.from_pydict(
                    {
                        "list_id": [list_id] * n,
                        "record_id": [int(m["recordId"]) for m in page],
                        # normalised so that text order is time order for the as-of filter
                        "added_at": [iso_ms(m.get("membershipTimestamp")) for m in page],
                        "paged_on": [day.isoformat() if day else None] * n,
                    },
                    schema=MEMBERSHIP_SCHEMA,
                )

    return Rows(MEMBERSHIP_SCHEMA, batches())


def _markers(item: Mapping[str, Any]) -> tuple[Any, ...]:
    """What changes when a list's members change: its size and its last added and removed times."""
    extra = item.get("additionalProperties") or {}
    return tuple(extra.get(name) for name in LIST_PROPERTIES)


def _unchanged(
    previous: pa.Table | None,
    list_id: str,
    before: tuple[Any, ...] | None,
    now: tuple[Any, ...],
    day: date | None,
    every: int,
) -> pa.Table | None:
    """The list's rows of the previous snapshot when they still hold, else None (page it)."""
    if previous is None or before is None or before != now or day is None or every <= 1 or None in now[:1]:
        return None
    rows = previous.filter(pc.equal(previous.column("list_id"), list_id))
    if "paged_on" not in rows.column_names:
        return None
    paged = {d for d in rows.column("paged_on").to_pylist()}
    if not paged or None in paged or (day - date.fromisoformat(min(paged))).days >= every:
        return None
    if rows.num_rows != int(now[0] or 0):  # the size says the rows are not all there
        return None
    return rows.select(MEMBERSHIP_SCHEMA.names).cast(MEMBERSHIP_SCHEMA)
