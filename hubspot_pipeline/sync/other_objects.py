"""The records of the export's other types (`sync.other_types`), kept as one row snapshot per day.

Snapshot source `other_objects` (one Parquet snapshot a day, `OTHER_SCHEMA`, sorted by type and id)
holds every record of every readable other type, tombstones included. Each day builds on the previous
day's snapshot (`sources.INCREMENTAL`), type by type:

- a listing with an "updated after" filter (marketing emails, CMS pages, blog posts) reads the records
  updated since the type's last read (an hour of overlap for clock skew), live and archived, and keeps
  the other rows as they were;
- campaigns, listed newest-updated first, are read until the first one already seen;
- form submissions, newest first per form (archived forms too; forms of every type), are read down to
  an hour before the newest one already held;
- deal splits are read for the deals HubSpot's search shows modified since the last read (a split
  edited moves its deal's hs_lastmodifieddate), 100 deals per batch read;
- a type is read whole when it has no earlier rows, every `refresh_days` days (HUBSPOT_DEFINITIONS_
  REFRESH_DAYS, counted from its oldest row's read time: the only way to see a record deleted for good),
  whenever a whole read costs no more calls than the changes would, and forms (no filter) every day;
  sequences (no filter, one call per user) only on that cadence.

A whole read replaces the type's rows: a record it no longer lists was deleted for good (HubSpot keeps
no tombstone of it, so a first read could not know it either) and leaves the snapshot; archived records
HubSpot still lists (emails, pages, posts, forms) are tombstones at their archivedAt. `read_at` is when each row was last read (its INGESTEDAT). Rows of a type the token can no
longer read are kept as they were, so nothing is lost when the scope comes back.

`OtherObjects` projects the snapshot as of a day in the index reader's batch shape (`AsOfBatch`): the
values are those of the snapshot, and each value's history row is that value at the record's updatedAt
(none of these APIs serves history), left out when that is after the moment.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hubspot_pipeline.hubspot import HubSpotClient, HubSpotError, SearchWindowExceeded
from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync.failed_records import batch_failures
from hubspot_pipeline.sync.index import HISTORY_SCHEMA, TIMESTAMP
from hubspot_pipeline.sync.index_reader import AsOfBatch, IndexReader
from hubspot_pipeline.sync.other_types import (
    LISTING,
    OTHER_BY_ID,
    OTHER_TYPES,
    PER_DEAL,
    PER_FORM,
    PER_USER,
    OtherType,
    digest_object_id,
    object_id,
    sequence_users,
)
from hubspot_pipeline.sync.rows import Rows
from hubspot_pipeline.sync.selection import EVERYTHING, Selection
from hubspot_pipeline.sync.timestamps import iso_ms, parse_ts
from hubspot_pipeline.sync.type_access import unavailable

OTHER_SCHEMA = pa.schema(
    [
        pa.field("type_id", pa.string(), nullable=False),
        pa.field("object_id", pa.int64(), nullable=False),
        pa.field("created_at", TIMESTAMP),
        pa.field("updated_at", TIMESTAMP),
        pa.field("archived", pa.bool_(), nullable=False),
        pa.field("archived_at", TIMESTAMP),
        pa.field("read_at", TIMESTAMP, nullable=False),
        pa.field("read_day", pa.date32(), nullable=False),  # the partition day whose run read it
        pa.field("properties", pa.map_(pa.string(), pa.string())),
    ]
)
OVERLAP = timedelta(hours=1)  # re-read changes this far before the last read: HubSpot's clocks differ
SEARCH_PAGE = 200
MODIFIED = "hs_lastmodifieddate"  # a deal's modified date: a split edited moves it
SPLITS_BATCH = 100


@dataclass
class _Run:
    client: HubSpotClient
    now: datetime  # the read's wall-clock time: read_at, INGESTEDAT
    day: date  # the partition day the run reads for
    refresh_days: int
    users: list[str]
    done: dict[str, pa.Table] = field(default_factory=dict)  # this run's rows per type id
    read: set[str] = field(default_factory=set)  # the type ids this run read from HubSpot


def fetch_other_objects(client: HubSpotClient, deps: Mapping[str, Any]) -> Rows:
    """The day's snapshot rows (module docstring); `deps`: type_access, owners, and the incremental
    source's previous, day, refresh_days and selection (a type the sync settings leave out is not read)."""
    missing = unavailable(deps.get("type_access"))
    selection: Selection = deps.get("selection") or EVERYTHING
    previous: pa.Table | None = deps.get("previous")
    if previous is not None and previous.schema.names != OTHER_SCHEMA.names:
        previous = None
    users = sequence_users(deps.get("owners"))
    now = datetime.now(UTC)
    day: date = deps.get("day") or now.date()
    run = _Run(client, now, day, max(1, int(deps.get("refresh_days") or 1)), users)

    def batches() -> Iterator[pa.RecordBatch]:
        for spec in OTHER_TYPES:
            held = _of_type(previous, spec.type_id)
            run.done[spec.type_id] = held.filter(pc.greater_equal(held.column("object_id"), 0))
            if spec.type_id in missing or not selection.syncs(spec.info):
                # kept as they were until the token can read the type again, or the settings sync it
                yield from held.to_batches()
                continue
            is_mark = pc.less(held.column("object_id"), 0)
            before, marker = held.filter(pc.invert(is_mark)), _Marker.of(held.filter(is_mark))
            try:
                read = _READERS[spec.read](run, spec, before, marker)
            except pa.ArrowException as exc:
                raise HubSpotError(
                    f"{spec.info.name} ({spec.type_id}): a record {spec.path} answered does not fit the "
                    f"snapshot's columns ({exc}); the day's snapshot of these types was not saved",
                    endpoint=spec.path,
                ) from exc
            except (KeyError, TypeError, ValueError) as exc:
                # the snapshot is saved only whole, so nothing of the day is written
                raise HubSpotError(
                    f"{spec.info.name} ({spec.type_id}): {spec.path} answered a record without the fields "
                    f"its reader needs ({exc!r}); the day's snapshot of these types was not saved",
                    endpoint=spec.path,
                ) from exc
            run.done[spec.type_id] = read.rows
            run.read.add(spec.type_id)
            after = _Marker(run.day if read.whole else marker.whole_day or run.day, read.mark or marker.mark)
            yield from after.row(spec.type_id, run.now).to_batches()
            yield from read.rows.to_batches()

    return Rows(OTHER_SCHEMA, batches())


@dataclass(frozen=True)
class _Marker:
    """Per type, one row with a negative id (never projected): the day of its last whole read and, for
    deal splits, the latest deal modification the last read saw (HubSpot's clock)."""

    whole_day: date | None = None
    mark: datetime | None = None

    @classmethod
    def of(cls, rows: pa.Table) -> _Marker:
        if rows.num_rows == 0:
            return cls()
        return cls(rows.column("read_day")[0].as_py(), rows.column("updated_at")[0].as_py())

    def row(self, type_id: str, now: datetime) -> pa.Table:
        values = [[type_id], [-1], [None], [self.mark], [True], [None], [now], [self.whole_day], [[]]]
        return pa.table(values, schema=OTHER_SCHEMA)


@dataclass(frozen=True)
class _Read:
    rows: pa.Table
    whole: bool  # the type was read whole
    mark: datetime | None = None


def _of_type(table: pa.Table | None, type_id: str) -> pa.Table:
    if table is None:
        return OTHER_SCHEMA.empty_table()
    return table.filter(pc.equal(table.column("type_id"), type_id))


# -- rows ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    object_id: int
    created_at: str | None
    updated_at: str | None
    archived: bool
    archived_at: str | None
    properties: dict[str, str]


def _table(spec: OtherType, rows: list[_Row], read_at: datetime, read_day: date) -> pa.Table:
    rows = sorted({r.object_id: r for r in rows}.values(), key=lambda r: r.object_id)
    n = len(rows)

    def ts(values: list[str | None]) -> pa.Array:
        return pa.array([parse_ts(v) if v else None for v in values], TIMESTAMP)

    return pa.table(
        [
            pa.array([spec.type_id] * n, pa.string()),
            pa.array([r.object_id for r in rows], pa.int64()),
            ts([r.created_at for r in rows]),
            ts([r.updated_at for r in rows]),
            pa.array([r.archived for r in rows], pa.bool_()),
            ts([r.archived_at for r in rows]),
            pa.array([read_at] * n, TIMESTAMP),
            pa.array([read_day] * n, pa.date32()),
            pa.array([list(r.properties.items()) for r in rows], OTHER_SCHEMA.field("properties").type),
        ],
        schema=OTHER_SCHEMA,
    )


def _row(spec: OtherType, record: Mapping[str, Any], *, archived: bool = False, **extra: str) -> _Row:
    # the CMS APIs name them `created` and `updated`
    created = iso_ms(record.get("createdAt") or record.get("created"))
    updated = iso_ms(record.get("updatedAt") or record.get("updated"))
    archived_at = iso_ms(record.get("archivedAt")) if archived or record.get("archived") else None
    return _Row(
        object_id(record["id"]),
        created,
        updated or created,
        archived or bool(record.get("archived")),
        archived_at or (updated if archived or record.get("archived") else None),
        spec.flatten(record, **extra),
    )


def _merged(before: pa.Table, fresh: pa.Table) -> pa.Table:
    """`before` with the rows of `fresh` replacing (or adding to) those of the same ids."""
    kept = before.filter(pc.invert(pc.is_in(before.column("object_id"), fresh.column("object_id"))))
    both = pa.concat_tables([kept, fresh])
    return both.take(pc.sort_indices(both, [("object_id", "ascending")]))


def _watermark(before: pa.Table) -> datetime | None:
    """The latest update the type's rows hold (HubSpot's clock, not ours), less the overlap; None: no
    earlier rows. Every change after the last read is newer than it."""
    if before.num_rows == 0:
        return None
    latest = pc.max(before.column("updated_at")).as_py()
    return latest - OVERLAP if latest is not None else None


def _due_whole(run: _Run, marker: _Marker) -> bool:
    """Never read whole, or last read whole `refresh_days` partition days ago or more."""
    return marker.whole_day is None or (run.day - marker.whole_day).days >= run.refresh_days


# -- the readers, one per way of listing ----------------------------------------------------------


def _listed(run: _Run, spec: OtherType, extra: Mapping[str, str] | None = None) -> Iterator[dict]:
    params = {**dict(spec.params), **(extra or {})}
    for page in run.client.paginate(spec.path, params, page_size=spec.page_size):
        yield from page


def _read_listing(run: _Run, spec: OtherType, before: pa.Table, marker: _Marker) -> _Read:
    since = _watermark(before)
    live_n = int(pc.sum(pc.invert(before.column("archived"))).as_py() or 0)
    whole_calls = max(1, math.ceil(live_n / spec.page_size)) + (1 if spec.archived_listing else 0)
    change_calls = 1 + (1 if spec.archived_listing else 0)
    incremental = spec.updated_after is not None or spec.newest_first_sort is not None
    if since is None or not incremental or _due_whole(run, marker) or whole_calls <= change_calls:
        rows = [_row(spec, r) for r in _listed(run, spec)]
        if spec.archived_listing:
            rows += [_row(spec, r, archived=True) for r in _listed(run, spec, {"archived": "true"})]
        return _Read(_table(spec, rows, run.now, run.day), True)
    if spec.updated_after is not None:
        after = {spec.updated_after: iso_ms(since) or ""}
        rows = [_row(spec, r) for r in _listed(run, spec, after)]
        if spec.archived_listing:
            rows += [_row(spec, r, archived=True) for r in _listed(run, spec, {**after, "archived": "true"})]
        return _Read(_merged(before, _table(spec, rows, run.now, run.day)), False)
    rows = []
    for page in run.client.paginate(
        spec.path, {**dict(spec.params), "sort": str(spec.newest_first_sort)}, page_size=spec.page_size
    ):
        fresh = [r for r in page if not r.get("updatedAt") or parse_ts(str(r["updatedAt"])) > since]
        rows += [_row(spec, r) for r in fresh]
        if len(fresh) < len(page):
            break  # the rest were updated before the last read
    return _Read(_merged(before, _table(spec, rows, run.now, run.day)), False)


def _read_submissions(run: _Run, spec: OtherType, before: pa.Table, marker: _Marker) -> _Read:
    """Per form HubSpot lists (archived ones too: their submissions stay readable), its submissions
    newest first down to `OVERLAP` before the newest one already held (a submission sent in late, or
    listed late, is still read), or every submission on the whole-read cadence (deleted ones go); the
    submissions of a form no longer listed go with it (as a first read would not see them)."""
    form_ids = _form_ids(run)
    held = pc.map_lookup(before.column("properties"), "form_id", "first")
    before = before.filter(pc.fill_null(pc.is_in(held, pa.array(form_ids, pa.string())), False))
    whole = _due_whole(run, marker)
    newest = {} if whole else _newest_per_form(before)
    overlap_ms = int(OVERLAP.total_seconds() * 1000)
    rows: list[_Row] = []
    for form_id in form_ids:
        seen = newest.get(form_id)
        path = spec.path.format(form_id=form_id)
        for page in run.client.paginate(path, None, page_size=spec.page_size):
            fresh = [s for s in page if seen is None or int(s.get("submittedAt") or 0) > seen - overlap_ms]
            rows += [_submission(spec, form_id, s) for s in fresh]
            if len(fresh) < len(page):
                break
    fresh_rows = _table(spec, rows, run.now, run.day)
    return _Read(fresh_rows, True) if whole else _Read(_merged(before, fresh_rows), False)


def _form_ids(run: _Run) -> list[str]:
    """The forms' ids: this run's forms rows, or (forms not read this run: the sync settings leave
    them out) HubSpot's form listing, live and archived, read for their ids only."""
    forms = run.done.get("0-28") if "0-28" in run.read else None
    if forms is None:
        spec = OTHER_BY_ID["0-28"]
        listed = [*_listed(run, spec), *_listed(run, spec, {"archived": "true"})]
        return list(dict.fromkeys(str(f["id"]) for f in listed if f.get("id")))
    return [f for f in pc.map_lookup(forms.column("properties"), "id", "first").to_pylist() if f]


def _newest_per_form(before: pa.Table) -> dict[str, int]:
    """The newest submittedAt (epoch ms) held per form id."""
    if before.num_rows == 0:
        return {}
    table = pa.table(
        {
            "form": pc.map_lookup(before.column("properties"), "form_id", "first"),
            "at": pc.cast(before.column("created_at"), pa.int64()),
        }
    ).drop_null()
    newest = table.group_by("form").aggregate([("at", "max")])
    return dict(zip(newest.column("form").to_pylist(), newest.column("at_max").to_pylist(), strict=True))


def _submission(spec: OtherType, form_id: str, record: Mapping[str, Any]) -> _Row:
    at = iso_ms(record.get("submittedAt"))
    conversion = record.get("conversionId")
    oid = (
        object_id(conversion)
        if conversion
        else digest_object_id(form_id, str(record.get("submittedAt")), str(record.get("values")))
    )
    return _Row(oid, at, at, False, None, spec.flatten(record, form_id=form_id))


def _read_sequences(run: _Run, spec: OtherType, before: pa.Table, marker: _Marker) -> _Read:
    """Every user's sequences, on the cadence only (no filter, one call or more per user)."""
    if not _due_whole(run, marker):
        return _Read(before, False)
    rows = [_row(spec, r) for user in run.users for r in _listed(run, spec, {"userId": user})]
    return _Read(_table(spec, rows, run.now, run.day), True)


def _read_splits(run: _Run, spec: OtherType, before: pa.Table, marker: _Marker) -> _Read:
    """The splits of every deal (a whole read), or of the deals modified since the latest deal change
    the last read saw; a window too large for one search reads whole."""
    deals: list[dict] | None = None
    if marker.mark is not None and not _due_whole(run, marker):
        since = iso_ms(marker.mark - OVERLAP)
        body = {
            "filterGroups": [{"filters": [{"propertyName": MODIFIED, "operator": "GTE", "value": since}]}],
            "properties": [MODIFIED],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        }
        try:
            deals = [
                r for page in run.client.paginate_search("0-3", body, page_size=SEARCH_PAGE) for r in page
            ]
        except SearchWindowExceeded:
            deals = None
    whole = deals is None
    if deals is None:
        deals = [
            r for page in run.client.paginate("/crm/v3/objects/deals", {"properties": MODIFIED}) for r in page
        ]
    ids = [str(r["id"]) for r in deals]
    stamps = [parse_ts(str(v)) for r in deals if (v := (r.get("properties") or {}).get(MODIFIED))]
    mark = max([*stamps, *([marker.mark] if marker.mark else [])], default=None)
    rows: list[_Row] = []
    failed: set[str] = set()
    for chunk in run.client.batch(spec.path, [{"id": d} for d in ids], chunk=SPLITS_BATCH):
        failed.update(str(i) for i, _, _ in batch_failures({"errors": chunk.errors}))
        for result in chunk.results:
            deal = str(result.get("id"))
            rows += [_row(spec, s, deal_id=deal) for s in result.get("splits") or []]
    fresh = _table(spec, rows, run.now, run.day)
    if whole:
        return _Read(fresh, True, mark)
    # the read deals' splits are the whole truth for those deals: earlier splits of theirs not listed went
    # (a deal whose read failed keeps the splits held for it)
    answered = pa.array([d for d in ids if d not in failed], pa.string())
    read = pc.fill_null(
        pc.is_in(pc.map_lookup(before.column("properties"), "deal_id", "first"), answered), False
    )
    return _Read(_merged(before.filter(pc.invert(read)), fresh), False, mark)


_READERS: dict[str, Callable[[_Run, OtherType, pa.Table, _Marker], _Read]] = {
    LISTING: _read_listing,
    PER_FORM: _read_submissions,
    PER_USER: _read_sequences,
    PER_DEAL: _read_splits,
}


# -- as of a day ----------------------------------------------------------------------------------


class OtherObjects:
    """The `other_objects` snapshot of a day, projected as of a moment like the CRM index."""

    def __init__(self, load: Callable[[], pa.Table]) -> None:
        self._load = load
        self._table: pa.Table | None = None

    def _rows(self, type_id: str) -> pa.Table:
        if self._table is None:
            table = self._load()
            self._table = table.filter(pc.greater_equal(table.column("object_id"), 0))  # no markers
        return _of_type(self._table, type_id)

    def _existing(self, type_id: str, as_of: datetime) -> pa.Table:
        rows = self._rows(type_id)
        cutoff = pa.scalar(as_of, TIMESTAMP)
        created = pc.fill_null(pc.less(rows.column("created_at"), cutoff), True)
        gone = pc.and_(
            rows.column("archived"), pc.fill_null(pc.less(rows.column("archived_at"), cutoff), True)
        )
        return rows.filter(pc.and_(created, pc.invert(gone)))

    def as_of_ids(self, type_id: str, as_of: datetime) -> np.ndarray:
        return self._existing(type_id, as_of).column("object_id").to_numpy()

    def tombstones_before(self, type_id: str, as_of: datetime) -> int:
        rows = self._rows(type_id)
        cutoff = pa.scalar(as_of, TIMESTAMP)
        gone = pc.and_(
            rows.column("archived"),
            pc.and_(
                pc.fill_null(pc.less(rows.column("archived_at"), cutoff), False),
                pc.fill_null(pc.less(rows.column("created_at"), cutoff), True),
            ),
        )
        return int(pc.sum(gone).as_py() or 0)

    def as_of_batches(
        self, type_id: str, as_of: datetime, *, values: bool = False, history: bool = False
    ) -> Iterator[AsOfBatch]:
        rows = self._existing(type_id, as_of)
        if rows.num_rows == 0:
            return
        records = pa.table(
            {
                "object_id": rows.column("object_id"),
                "created_at": rows.column("created_at"),
                "updated_at": rows.column("updated_at"),
                "ingested_at": rows.column("read_at"),
            }
        )
        long = _long_values(rows) if values or history else None
        yield AsOfBatch(
            records,
            long.select(["object_id", "name", "value", "timestamp"]) if values and long is not None else None,
            _before(long, as_of).select(HISTORY_SCHEMA.names) if history and long is not None else None,
        )


def _before(long: pa.Table, as_of: datetime) -> pa.Table:
    """History rows stamped before `as_of` (a record edited after the day, before the day's read, has
    its value as of the read but no history entry in the day)."""
    return long.filter(pc.less(long.column("timestamp"), pa.scalar(as_of, TIMESTAMP)))


def _long_values(rows: pa.Table) -> pa.Table:
    """One row per (record, property), sorted by id and name, at the record's updatedAt."""
    props = rows.column("properties").combine_chunks()
    offsets = props.offsets.to_numpy()
    lengths = np.diff(offsets)
    first, last = int(offsets[0]), int(offsets[-1])
    ids = np.repeat(rows.column("object_id").to_numpy(), lengths)
    stamp = pc.coalesce(rows.column("updated_at"), rows.column("created_at"), rows.column("read_at"))
    stamps = pc.take(stamp.combine_chunks(), pa.array(np.repeat(np.arange(rows.num_rows), lengths)))
    n = len(ids)
    table = pa.table(
        {
            "object_id": pa.array(ids, pa.int64()),
            "name": props.keys.slice(first, last - first),
            "value": props.items.slice(first, last - first),
            "timestamp": stamps.cast(TIMESTAMP),
            "source_type": pa.nulls(n, pa.string()),
            "source_id": pa.nulls(n, pa.string()),
            "source_label": pa.nulls(n, pa.string()),
            "updated_by_user_id": pa.nulls(n, pa.int64()),
        }
    )
    return table.take(pc.sort_indices(table, [("object_id", "ascending"), ("name", "ascending")]))


class ExportReader(IndexReader):
    """The CRM index, with the other types' records (`OtherObjects`) served under their type ids: what
    every CRM table and SYNC_HEALTH read, so the other types are projected by the same code."""

    def __init__(self, destination: Destination, other: OtherObjects) -> None:
        super().__init__(destination)
        self.other = other

    def as_of_ids(self, type_id: str, as_of: datetime) -> np.ndarray:
        if type_id in OTHER_BY_ID:
            return self.other.as_of_ids(type_id, as_of)
        return super().as_of_ids(type_id, as_of)

    def as_of_batches(
        self, type_id: str, as_of: datetime, *, values: bool = False, history: bool = False
    ) -> Iterator[AsOfBatch]:
        if type_id in OTHER_BY_ID:
            return self.other.as_of_batches(type_id, as_of, values=values, history=history)
        return super().as_of_batches(type_id, as_of, values=values, history=history)

    def tombstones_before(self, type_id: str, as_of: datetime) -> int:
        if type_id in OTHER_BY_ID:
            return self.other.tombstones_before(type_id, as_of)
        return super().tombstones_before(type_id, as_of)
