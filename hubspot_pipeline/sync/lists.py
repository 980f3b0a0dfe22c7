"""Fetchers for lists (segments) and their memberships.

The v3 lists search pages by offset (500 lists a page); memberships page by cursor (250 a page) and
come back as rows of a Parquet snapshot, one page at a time, so a list of millions stays out of memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.hubspot.paging import cursor_pages
from hubspot_pipeline.sync.index import to_ms
from hubspot_pipeline.sync.index_reader import IndexReader
from hubspot_pipeline.sync.journal import LIST_OVERLAP_MS, memberships_since
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
    """Every list's members, in the order they joined, built on the previous day's snapshot
    (`deps["previous"]`, its rows and the lists it was paged for) where HubSpot's change markers (size,
    last added and last removed times) allow:
    - a list whose markers are unchanged keeps its rows;
    - one that only lost members keeps its rows less those of the records the CRM index holds deleted
      (HubSpot drops a deleted record from every list) when that leaves its new size: a snapshot list
      changes only so;
    - with HubSpot's webhooks journal (`sync.journal`), a changed list takes the membership changes
      the journal holds since the last read (less an hour, applied again: each pair's last event
      decides), less the records the index holds deleted, when that gives its new size and its last
      join: no page is read;
    - an active (DYNAMIC) list whose filters are unchanged follows its records: the records the index
      read since the last read (changed, late, re-read; `IndexReader.ids_read_after`) are asked which
      lists they are in now (one batch read per 100 records, shared by the lists of their type, and
      only when that takes no more calls than paging those lists), their rows are replaced and the
      list's other rows kept, when that gives its new size and its last join;
    - one that only gained members (no removal since) is read from the cursor of its last page on,
      which must give back that page first;
    - any other is paged whole, and every list at least every `deps["refresh_days"]` days (how long the
      markers are trusted: an active list whose filters compare with today's date can lose records
      that did not change, which only a whole read shows)."""
    previous: pa.Table | None = deps.get("previous")
    if previous is not None and not {"paged_on", "page_after"} <= set(previous.column_names):
        previous = None  # written before lists were read incrementally
    before = {str(item["listId"]): item for item in deps.get("previous_lists") or []}
    day: date | None = deps.get("day")
    every = int(deps.get("refresh_days") or 1)
    stamp = day.isoformat() if day else None
    by_list = _by_list(previous) if previous is not None and day is not None and every > 1 else {}
    opened: Callable[[], IndexReader | None] = deps.get("index") or (lambda: None)
    changes = _Changes(client, opened, to_ms(deps.get("previous_fetched_at")))
    # what paging the changed active lists of each type whole would cost: following them may not cost more
    budget: dict[str, int] = {}
    for item in deps["lists"]:
        earlier = before.get(str(item["listId"]))
        if (
            item.get("processingType") == "DYNAMIC"
            and earlier is not None
            and _markers(earlier) != _markers(item)
        ):
            pages = max(1, -(-_size(_markers(item)) // MEMBERSHIP_PAGE))
            budget[str(item.get("objectTypeId"))] = budget.get(str(item.get("objectTypeId")), 0) + pages

    def batches() -> Iterator[pa.RecordBatch]:
        for item in deps["lists"]:
            list_id, now = str(item["listId"]), _markers(item)
            rows, earlier = by_list.get(list_id), before.get(list_id)
            then = _markers(earlier) if earlier is not None else None
            fresh = rows is not None and then is not None and _age(rows, day) < every
            if not fresh or rows is None or then is None or earlier is None:
                yield from _paged(client, list_id, None, stamp)
                continue
            size, type_id = _size(now), str(item.get("objectTypeId"))
            if then == now and rows.num_rows == size:
                yield from rows.to_batches()  # unchanged
                continue
            journaled = changes.journal()
            if journaled is not None:
                edited = _journaled(rows, list_id, *journaled, changes.tombstones(type_id), stamp)
                if edited.num_rows == size and _joined_last(edited, then, now):
                    yield from edited.to_batches()
                    continue
            gone = changes.tombstones(type_id) if then[1] == now[1] and size < rows.num_rows else None
            if gone is not None:
                alive = _without(rows, gone)
                if alive.num_rows == size:
                    yield from alive.to_batches()
                    continue
            active = item.get("processingType") == "DYNAMIC"
            same_filters = item.get("filtersUpdatedAt") == earlier.get("filtersUpdatedAt")
            followed = changes.of(type_id, budget.get(type_id, 0)) if active and same_filters else None
            if followed is not None:
                edited = _followed(rows, list_id, *followed, stamp)
                if edited.num_rows == size and _joined_last(edited, then, now):
                    yield from edited.to_batches()
                    continue
            if then[2] == now[2] and size > rows.num_rows:  # joins only, no removal
                grown = _appended(client, list_id, rows, stamp, size)
                if grown is not None:
                    yield from grown
                    continue
            yield from _paged(client, list_id, None, stamp)

    return Rows(MEMBERSHIP_SCHEMA, batches())


RECORD_MEMBERSHIPS = "/crm/v3/lists/records/memberships/batch/read"
# HubSpot documents no maximum for that batch read; 100, as its other batch reads take
RECORD_MEMBERSHIPS_BATCH = 100
# a row not read from a membership page (edited in from a record's lists): no cursor to resume at
NO_CURSOR = ""
_JOINED = pa.schema([("record_id", pa.int64()), ("list_id", pa.string()), ("added_at", pa.string())])


class _Changes:
    """Per object type, the records the CRM index read since the last membership read (changed, read
    late, re-read, archived) and the lists those records are in now, asked once per type."""

    def __init__(
        self, client: HubSpotClient, opened: Callable[[], IndexReader | None], last_read_ms: int | None
    ) -> None:
        self._client, self._opened, self._last_read = client, opened, last_read_ms
        self._found: dict[str, tuple[np.ndarray, pa.Table] | None] = {}
        self._journal: tuple[tuple[pa.Table, pa.Table], ...] | None = None
        self._gone: dict[str, np.ndarray] = {}

    def journal(self) -> tuple[pa.Table, pa.Table] | None:
        """The list-membership changes since the last read as `journal.memberships_since` gives them,
        when the journal holds every one; computed once. The journal runs on HubSpot's clock, the last
        read's time is ours: the changes are taken from the watermark (HubSpot's time) of the last
        index sync before that read, less `LIST_OVERLAP_MS`."""
        if self._journal is None:
            self._journal = ()
            reader = self._opened()
            if reader is not None and self._last_read is not None:
                last_read = self._last_read
                synced = [g for g in reader.manifest.generations if (to_ms(g.ingested_at) or 0) <= last_read]
                start = (to_ms(synced[-1].watermark) or 0) - LIST_OVERLAP_MS if synced else None
                events = reader.journal_list_events(start) if start is not None else None
                if events is not None and start is not None:
                    self._journal = (memberships_since(events, start),)
        return self._journal[0] if self._journal else None

    def tombstones(self, type_id: str) -> np.ndarray | None:
        """The type's ids the index holds deleted now (None without an index), computed once."""
        reader = self._opened()
        if reader is None:
            return None
        if type_id not in self._gone:
            self._gone[type_id] = reader.tombstones(type_id)
        return self._gone[type_id]

    def of(self, type_id: str, budget: int) -> tuple[np.ndarray, pa.Table] | None:
        """(sorted ids of the records read or deleted since, their memberships now as `_JOINED`
        rows); None when that cannot be known (no index, no sync run since the last read, a compaction
        since, the type not in the index, an answer that does not account for every record) or would
        take more than `budget` calls."""
        if type_id not in self._found:
            self._found[type_id] = self._read(type_id, budget)
        return self._found[type_id]

    def _read(self, type_id: str, budget: int) -> tuple[np.ndarray, pa.Table] | None:
        reader = self._opened()
        if reader is None or self._last_read is None or not reader.manifest.segments(type_id):
            return None
        read = reader.ids_read_after(type_id, self._last_read)
        gone = self.tombstones(type_id)
        if read is None or gone is None:
            return None
        asked = np.setdiff1d(read, gone)
        if -(-len(asked) // RECORD_MEMBERSHIPS_BATCH) > budget:
            return None
        inputs = [{"objectTypeId": type_id, "recordId": str(i)} for i in asked.tolist()]
        found: dict[str, list] = {"record_id": [], "list_id": [], "added_at": []}
        answered: set[int] = set()
        for part in self._client.batch(RECORD_MEMBERSHIPS, inputs, chunk=RECORD_MEMBERSHIPS_BATCH):
            for error in part.errors:
                if error.get("category") != "OBJECT_NOT_FOUND":
                    return None  # a record HubSpot could not answer for: its lists are unknown
                # deleted since the index read it: in no list
                answered.update(int(i) for i in (error.get("context") or {}).get("ids") or [])
            for result in part.results:
                answered.add(int(result["recordId"]))
                for membership in result.get("recordListMemberships") or []:
                    found["record_id"].append(int(result["recordId"]))
                    found["list_id"].append(str(membership["listId"]))
                    found["added_at"].append(iso_ms(membership.get("lastAddedTimestamp")))
        if answered != set(asked.tolist()):
            return None
        return np.union1d(asked, gone), pa.table(found, schema=_JOINED)


def _followed(
    rows: pa.Table, list_id: str, touched: np.ndarray, joined: pa.Table, stamp: str | None
) -> pa.Table:
    """The list's rows with those of the `touched` records replaced by their memberships now, in join
    order (ties by record id)."""
    kept = _without(rows, touched)
    mine = joined.filter(pc.equal(joined.column("list_id"), list_id))
    n = mine.num_rows
    edited = pa.table(
        {
            "list_id": mine.column("list_id"),
            "record_id": mine.column("record_id"),
            "added_at": mine.column("added_at"),
            "paged_on": pa.array([stamp] * n, pa.string()),
            "page_after": pa.array([NO_CURSOR] * n, pa.string()),
        },
        schema=MEMBERSHIP_SCHEMA,
    )
    both = pa.concat_tables([kept, edited])
    return both.sort_by([("added_at", "ascending"), ("record_id", "ascending")])


def _journaled(
    rows: pa.Table,
    list_id: str,
    touched: pa.Table,
    joined: pa.Table,
    gone: np.ndarray | None,
    stamp: str | None,
) -> pa.Table:
    """The list's rows with the journal's changes applied (the touched records' rows replaced by
    their memberships after them), less the records deleted since (a delete leaves every list)."""
    mine = touched.filter(pc.equal(touched.column("list_id"), list_id)).column("record_id").to_numpy()
    edited = _followed(rows, list_id, np.sort(mine), joined, stamp)
    return _without(edited, gone) if gone is not None and len(gone) else edited


def _joined_last(rows: pa.Table, then: tuple[Any, ...], now: tuple[Any, ...]) -> bool:
    """Whether the rows show the list's last join: when HubSpot's last-added time moved, the newest
    row joined then (a join the changed records do not explain is missed otherwise)."""
    if then[1] == now[1]:
        return True
    newest = to_ms(rows.column("added_at")[rows.num_rows - 1].as_py()) if rows.num_rows else None
    return newest is not None and newest == to_ms(now[1])


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
    if last == NO_CURSOR:
        return None
    in_last = pc.fill_null(pc.equal(cursors, last), False) if last is not None else pc.is_null(cursors)
    tail, head = rows.filter(in_last), rows.filter(pc.invert(in_last))
    fetched = list(_paged(client, list_id, last, stamp))
    again = pa.Table.from_batches(fetched, MEMBERSHIP_SCHEMA) if fetched else MEMBERSHIP_SCHEMA.empty_table()
    known = again.slice(0, tail.num_rows).column("record_id").to_pylist()
    if known != tail.column("record_id").to_pylist() or head.num_rows + again.num_rows != size:
        return None
    return [*head.to_batches(), *again.to_batches()]


def _without(rows: pa.Table, ids: np.ndarray) -> pa.Table:
    """The rows whose record is not one of `ids`, in their order."""
    return rows.filter(pc.invert(pc.is_in(rows.column("record_id"), pa.array(ids, pa.int64()))))


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
