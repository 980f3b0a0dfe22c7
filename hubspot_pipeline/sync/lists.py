"""Fetchers for lists (segments) and their memberships.

The v3 lists search pages by offset (500 lists a page); memberships page by cursor (250 a page) and
come back as rows of a Parquet snapshot, one page at a time, so a list of millions stays out of memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.hubspot.paging import cursor_pages
from hubspot_pipeline.sync.rows import Rows
from hubspot_pipeline.sync.timestamps import iso_ms

LIST_PROPERTIES = ["hs_list_size", "hs_last_record_added_at", "hs_last_record_removed_at"]
MEMBERSHIP_SCHEMA = pa.schema(
    [
        ("list_id", pa.string()),
        ("record_id", pa.int64()),
        ("added_at", pa.string()),
        ("paged_on", pa.string()),  # the day the row's page was read (kept rows keep theirs)
        ("page_after", pa.string()),  # the cursor that read the row's page (null: the first page)
    ]
)
MEMBERSHIP_PAGE = 250


def fetch_lists(client: HubSpotClient, deps: Mapping[str, Any]) -> list[dict]:
    body = {"query": "", "additionalProperties": LIST_PROPERTIES}
    lists: dict[str, dict] = {}
    for page in client.paginate_offset("/crm/v3/lists/search", body, items_key="lists", count=500):
        for item in page:
            lists.setdefault(str(item["listId"]), item)
    return [lists[k] for k in sorted(lists, key=int)]


def fetch_list_memberships(client: HubSpotClient, deps: Mapping[str, Any]) -> Rows:
    """Every list's members, in the order they joined. With the previous day's snapshot
    (`deps["previous"]`, its rows and the lists it was paged for), a list whose size and last added and
    removed times are unchanged keeps its rows; one that only gained members (no removal since) is
    read from the cursor of its last page on, which must give back that page first; any other is
    paged whole, and every list at least every `deps["refresh_days"]` days (HubSpot's change markers
    are trusted for that long)."""
    previous: pa.Table | None = deps.get("previous")
    if previous is not None and not {"paged_on", "page_after"} <= set(previous.column_names):
        previous = None  # written before lists were read incrementally
    before = {str(item["listId"]): _markers(item) for item in deps.get("previous_lists") or []}
    day: date | None = deps.get("day")
    every = int(deps.get("refresh_days") or 1)
    stamp = day.isoformat() if day else None
    by_list = _by_list(previous) if previous is not None and day is not None and every > 1 else {}

    def batches() -> Iterator[pa.RecordBatch]:
        for item in deps["lists"]:
            list_id, now = str(item["listId"]), _markers(item)
            rows, then = by_list.get(list_id), before.get(list_id)
            fresh = rows is not None and then is not None and _age(rows, day) < every
            if fresh and then == now and rows.num_rows == _size(now):
                yield from rows.to_batches()  # unchanged
                continue
            if fresh and then[2] == now[2] and _size(now) > rows.num_rows:  # joins only, no removal
                grown = _appended(client, list_id, rows, stamp, _size(now))
                if grown is not None:
                    yield from grown
                    continue
            yield from _paged(client, list_id, None, stamp)

    return Rows(MEMBERSHIP_SCHEMA, batches())


def _path(list_id: str) -> str:
    return f"/crm/v3/lists/{list_id}/memberships/join-order"


def _paged(
    client: HubSpotClient, list_id: str, after: str | None, stamp: str | None
) -> Iterator[pa.RecordBatch]:
    """The list's members from the cursor `after` on, each row with the cursor of its page."""
    used = after
    for page, nxt in cursor_pages(client, _path(list_id), page_size=MEMBERSHIP_PAGE, after=after):
        yield _batch(list_id, page, stamp, used)
        used = nxt


def _batch(list_id: str, page: list[dict], stamp: str | None, cursor: str | None) -> pa.RecordBatch:
    n = len(page)
    return pa.RecordBatch.from_pydict(
        {
            "list_id": [list_id] * n,
            "record_id": [int(m["recordId"]) for m in page],
            # normalised so that text order is time order for the as-of filter
            "added_at": [iso_ms(m.get("membershipTimestamp")) for m in page],
            "paged_on": [stamp] * n,
            "page_after": [cursor] * n,
        },
        schema=MEMBERSHIP_SCHEMA,
    )


def _appended(
    client: HubSpotClient, list_id: str, rows: pa.Table, stamp: str | None, size: int
) -> list[pa.RecordBatch] | None:
    """The list's rows with the members that joined since: its last page read again from its cursor,
    then the pages after it; None when that page no longer starts with the rows it had (page whole)."""
    cursors = rows.column("page_after")
    last = cursors[rows.num_rows - 1].as_py()
    in_last = pc.fill_null(pc.equal(cursors, last), False) if last is not None else pc.is_null(cursors)
    tail, head = rows.filter(in_last), rows.filter(pc.invert(in_last))
    fetched = list(_paged(client, list_id, last, stamp))
    again = pa.Table.from_batches(fetched, MEMBERSHIP_SCHEMA) if fetched else MEMBERSHIP_SCHEMA.empty_table()
    known = again.slice(0, tail.num_rows).column("record_id").to_pylist()
    if known != tail.column("record_id").to_pylist() or head.num_rows + again.num_rows != size:
        return None
    return [*head.to_batches(), *again.to_batches()]


def _by_list(table: pa.Table) -> dict[str, pa.Table]:
    """The snapshot's rows per list, in their stored (join) order."""
    ids = table.column("list_id").to_numpy(zero_copy_only=False)
    out: dict[str, pa.Table] = {}
    if not len(ids):
        return out
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    for start, end in zip(starts, ends, strict=True):
        out[str(ids[start])] = table.slice(int(start), int(end - start)).select(MEMBERSHIP_SCHEMA.names)
    return out


def _age(rows: pa.Table, day: date | None) -> int:
    """Days since the oldest page of the list's rows was read."""
    paged = [d for d in pc.unique(rows.column("paged_on")).to_pylist() if d]
    if day is None or not paged or rows.column("paged_on").null_count:
        return 1 << 30
    return (day - date.fromisoformat(min(paged))).days


def _markers(item: Mapping[str, Any]) -> tuple[Any, ...]:
    """What changes when a list's members change: its size and its last added and removed times."""
    extra = item.get("additionalProperties") or {}
    return tuple(extra.get(name) for name in LIST_PROPERTIES)


def _size(markers: tuple[Any, ...]) -> int:
    try:
        return int(markers[0])
    except (TypeError, ValueError):
        return -1
