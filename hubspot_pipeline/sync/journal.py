"""HubSpot's webhooks journal (API 2026-03) as the daily sync's change feed.

Opt-in: the journal is read with an app's client-credentials token (HUBSPOT_JOURNAL_CLIENT_ID and
HUBSPOT_JOURNAL_CLIENT_SECRET; a private app's token cannot read it). The app's subscriptions select
what the journal keeps, for 3 days: each synced object type gets one `OBJECT` subscription (create,
update, delete, merge, restore; every record, every property), made by the sync itself. Entries are
read 100 a call after the offset kept in the index; each entry is a JSON file at a pre-signed URL
(fetched without the bearer token; not a HubSpot API call, counted apart).

What the journal vouches for, per type: every change from `complete_from(type)` on. That is the
publication of the entry the last run kept (entries after it hold every later event), or, with no
entry kept (the first read, an offset HubSpot no longer has), the subscription's creation or the
retention's edge, whichever is later. The incremental sync takes a type's changes from the journal
only when that instant is no later than where its search would start: the watermark minus the
look-back, or, after a run that searched the type, that run's start (the settled window its step 2
would check again). Otherwise it searches, as without the journal. The offset kept is the newest
entry published before where the next run's journal must start: this run's search start when a type
was searched, else a look-back (at least an hour) before the run; the next run reads that overlap
again, as the searches do, and takes every event it reads that the journal vouches for. So the first three runs with credentials search (the first subscribes; the windows of
the next two start before the subscriptions), and the journal serves from the fourth on; after a gap
longer than the journal's 3 days, two runs search and the third is served again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.hubspot.errors import HubSpotAuthError, HubSpotRequestError
from hubspot_pipeline.sync.index import to_ms

VERSION = "2026-03"
JOURNAL = f"/webhooks-journal/journal-local/{VERSION}"
SUBSCRIPTIONS = f"/webhooks-journal/subscriptions/{VERSION}"
TOKEN_PATH = "/oauth/v1/token"
FILE_ENDPOINT = "GET <journal entry file>"  # counter key of the pre-signed files (not HubSpot routes)
JOURNAL_SCOPES = (
    "developer.webhooks_journal.read",
    "developer.webhooks_journal.subscriptions.read",
    "developer.webhooks_journal.subscriptions.write",
)
OBJECT_ACTIONS = ("CREATE", "UPDATE", "DELETE", "MERGE", "RESTORE")
LIST_ACTIONS = ("ADDED_TO_LIST", "REMOVED_FROM_LIST")
LISTS = "lists"  # the key of the list-membership subscription in `JournalPosition.subscribed`
LIST_EVENTS_FILE = "journal-list-events.parquet"  # in the folder of the generation that read them
# the lists apply the journal's changes from this long before the last index sync they were read
# after: a read a moment after a change may not show it yet (`sync.lists`)
LIST_OVERLAP_MS = 3_600_000
PAGE = 100  # entries per batch read: HubSpot's maximum
RETENTION = timedelta(days=3)
# what the journal is trusted to hold after a gap: its retention less an hour
TRUSTED = RETENTION - timedelta(hours=1)
CLIENT_ID_VAR, CLIENT_SECRET_VAR = "HUBSPOT_JOURNAL_CLIENT_ID", "HUBSPOT_JOURNAL_CLIENT_SECRET"

EVENT_SCHEMA = pa.schema(
    [
        ("type_id", pa.string()),
        ("object_id", pa.int64()),
        ("action", pa.string()),  # OBJECT_ACTIONS, or MERGED_AWAY for a record a MERGE archived
        ("occurred_ms", pa.int64()),
        ("seq", pa.int64()),  # order in the journal (ties of occurred_ms)
    ]
)
_GONE = ("DELETE", "MERGED_AWAY")
LIST_EVENT_SCHEMA = pa.schema(
    [
        ("list_id", pa.string()),
        ("record_id", pa.int64()),
        ("added", pa.bool_()),  # ADDED_TO_LIST, else REMOVED_FROM_LIST
        ("occurred_ms", pa.int64()),
        ("seq", pa.int64()),
    ]
)

log = logging.getLogger(__name__)


class JournalError(ValueError):
    """The journal cannot be read as configured; the message names the setting to fix."""


@dataclass(frozen=True)
class JournalApp:
    """The app whose client credentials read the journal."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class JournalPosition:
    """What the index keeps of the journal between runs (each generation's `stats["journal"]`)."""

    offset: str | None = None  # the entry later reads start after
    published_ms: int = 0  # its publication (every event after it is in a later entry)
    subscribed: Mapping[str, int] = field(default_factory=dict)  # type id -> its subscription's creation

    def stats(self) -> dict[str, Any]:
        return {"offset": self.offset, "published_ms": self.published_ms, "subscribed": dict(self.subscribed)}

    @classmethod
    def from_stats(cls, stats: Mapping[str, Any] | None) -> JournalPosition:
        if not stats:
            return cls()
        subscribed = {str(k): int(v) for k, v in (stats.get("subscribed") or {}).items()}
        return cls(stats.get("offset"), int(stats.get("published_ms") or 0), subscribed)


@dataclass(frozen=True)
class JournalChanges:
    """The object events read in one run, and from when the journal vouches for each type."""

    events: pa.Table  # EVENT_SCHEMA
    list_events: pa.Table  # LIST_EVENT_SCHEMA
    start: JournalPosition  # what was read after (its offset None when read from the earliest)
    read: tuple[tuple[str, int], ...]  # (offset, publication) of each entry read, in order
    until_ms: int  # the run's server time

    @property
    def anchored_ms(self) -> int | None:
        """The publication of the entry read after; None when read from the earliest."""
        return self.start.published_ms if self.start.offset else None

    @property
    def entries(self) -> int:
        return len(self.read)

    def keep(self, before_ms: int) -> JournalPosition:
        """The position for the next run: the newest entry read published no later than `before_ms`
        (the next run reads from there), else the one read after."""
        fit = [entry for entry in self.read if entry[1] <= before_ms]
        if not fit:
            return self.start
        return JournalPosition(fit[-1][0], fit[-1][1], self.start.subscribed)

    def complete_from(self, type_id: str) -> int | None:
        """Every change of the type (`LISTS`: every list membership) from this instant (ms) on is in
        `events` (`list_events`); None: not subscribed."""
        subscribed = self.start.subscribed.get(type_id)
        if subscribed is None:
            return None
        edge = self.anchored_ms if self.anchored_ms is not None else self.until_ms - _ms(TRUSTED)
        return max(subscribed, edge)

    def _last(self, type_id: str, since_ms: int) -> pa.Table:
        """Each record's last event at or after `since_ms`."""
        table = self.events.filter(
            pc.and_(
                pc.equal(self.events["type_id"], type_id),
                pc.greater_equal(self.events["occurred_ms"], since_ms),
            )
        ).sort_by([("object_id", "ascending"), ("occurred_ms", "ascending"), ("seq", "ascending")])
        ids = table["object_id"].to_numpy()
        last = np.append(ids[1:] != ids[:-1], True) if len(ids) else np.zeros(0, dtype=bool)
        return table.filter(pa.array(last))

    def changed(self, type_id: str, since_ms: int) -> dict[int, int]:
        """Records created, written, merged into or restored since `since_ms` and live after it: id ->
        time of the last change (as `change_search.windowed_ids` gives them)."""
        last = self._last(type_id, since_ms)
        live = last.filter(pc.invert(pc.is_in(last["action"], pa.array(_GONE))))
        return dict(zip(live["object_id"].to_pylist(), live["occurred_ms"].to_pylist(), strict=True))

    def archived(self, type_id: str, since_ms: int) -> dict[int, int]:
        """Records deleted or merged away since `since_ms` and not restored after: id -> archive time."""
        last = self._last(type_id, since_ms)
        gone = last.filter(pc.is_in(last["action"], pa.array(_GONE)))
        return dict(zip(gone["object_id"].to_pylist(), gone["occurred_ms"].to_pylist(), strict=True))


def _ms(delta: timedelta) -> int:
    return int(delta / timedelta(milliseconds=1))


class Journal:
    """One account's journal, read by the app: its token, its subscriptions, its entries."""

    def __init__(self, api: HubSpotClient, app: JournalApp, portal_id: int) -> None:
        self.api = api  # the private app's client: the token call (no bearer) is counted with its calls
        self.app = app
        self.portal_id = portal_id
        self._client: HubSpotClient | None = None

    @property
    def client(self) -> HubSpotClient:
        """The client with the app's token (asked once; a run is far shorter than its 30 minutes).
        Its pacing is its own: journal reads are exempt from the account's rate limits."""
        if self._client is None:
            form = {
                "grant_type": "client_credentials",
                "client_id": self.app.client_id,
                "client_secret": self.app.client_secret,
                "scope": " ".join(JOURNAL_SCOPES),
            }
            try:
                answer = self.api.request("POST", TOKEN_PATH, form=form, anonymous=True)
            except HubSpotRequestError as exc:
                body = exc.body if isinstance(exc.body, dict) else {}
                raise JournalError(
                    f"HubSpot refused the journal app's token ({body.get('status') or exc.status}: "
                    f"{body.get('message') or exc}); check {CLIENT_ID_VAR} and {CLIENT_SECRET_VAR}, and "
                    f"that the app has the scopes {', '.join(JOURNAL_SCOPES)}"
                ) from None
            self._client = HubSpotClient(self.api.base_url, str(answer["access_token"]), logger=self.api.log)
        return self._client

    def total_calls(self) -> int:
        return self._client.total_calls() if self._client is not None else 0

    def subscribe(self, type_ids: list[str], position: JournalPosition) -> JournalPosition:
        """Make sure each type has an OBJECT subscription for every record and property (one call to
        list them, one per type missing); `subscribed` keeps, per type, since when it has had one."""
        client = self.client
        try:
            existing = client.get(SUBSCRIPTIONS).get("results") or []
        except HubSpotAuthError as exc:
            raise JournalError(
                f"the journal app's token was rejected ({exc}); check {CLIENT_ID_VAR}"
            ) from None
        have: dict[str, int] = {}
        for sub in existing:
            if (
                sub.get("subscriptionType") == "LIST_MEMBERSHIP"
                and set(LIST_ACTIONS) <= set(sub.get("actions") or ())
                and not sub.get("listIds")
                and not sub.get("objectIds")
                and sub.get("portalId") in (None, self.portal_id)
            ):
                have[LISTS] = min(have.get(LISTS, 1 << 62), to_ms(sub.get("createdAt")) or 0)
            covers = set(OBJECT_ACTIONS) <= set(sub.get("actions") or ()) and not sub.get("objectIds")
            if (
                sub.get("subscriptionType") == "OBJECT"
                and covers
                and not sub.get("properties")
                and sub.get("portalId") in (None, self.portal_id)
            ):
                have[str(sub["objectTypeId"])] = min(
                    have.get(str(sub["objectTypeId"]), 1 << 62), to_ms(sub.get("createdAt")) or 0
                )
        for type_id in type_ids:
            if type_id in have:
                continue
            body = {
                "subscriptionType": "OBJECT",
                "portalId": self.portal_id,
                "objectTypeId": type_id,
                "actions": list(OBJECT_ACTIONS),
                "objectIds": [],
                "properties": [],
            }
            made = client.post(SUBSCRIPTIONS, body)
            have[type_id] = to_ms(made.get("createdAt")) or 0
            log.info("journal: subscribed to %s", type_id)
        if LISTS not in have:
            body = {
                "subscriptionType": "LIST_MEMBERSHIP",
                "portalId": self.portal_id,
                "actions": list(LIST_ACTIONS),
                "listIds": [],
                "objectIds": [],
            }
            have[LISTS] = to_ms(client.post(SUBSCRIPTIONS, body).get("createdAt")) or 0
        return JournalPosition(position.offset, position.published_ms, {t: have[t] for t in sorted(have)})

    def read(self, position: JournalPosition, until_ms: int) -> JournalChanges:
        """Every entry after the kept offset (from the earliest when there is none or HubSpot no
        longer has it) and their object and list-membership events."""
        params = {"installPortalId": self.portal_id}
        after = position.offset
        tables: list[pa.Table] = []
        lists: list[pa.Table] = []
        read: list[tuple[str, int]] = []
        while True:
            path = f"{JOURNAL}/batch/{after}/next/{PAGE}" if after else f"{JOURNAL}/batch/earliest/{PAGE}"
            try:
                page = self.client.get(path, params)
            except HubSpotRequestError as exc:
                if exc.status != 404 or after is None or after != position.offset:
                    raise
                log.warning("journal: offset %s expired; reading from the earliest entry", after)
                after = None
                position = JournalPosition(None, 0, position.subscribed)
                continue
            results = (page or {}).get("results") or []
            for fetched in results:
                entry = self.client.request("GET", fetched["url"], anonymous=True, endpoint=FILE_ENDPOINT)
                published = to_ms(entry.get("publishedAt")) or 0
                objects, memberships = _entry_events(entry.get("journalEvents") or [])
                tables.append(objects)
                lists.append(memberships)
                read.append((str(fetched["currentOffset"]), published))
            if len(results) < PAGE:
                break
            after = str(results[-1]["currentOffset"])
        events = _numbered(pa.concat_tables(tables) if tables else _empty(EVENT_SCHEMA))
        list_events = _numbered(pa.concat_tables(lists) if lists else _empty(LIST_EVENT_SCHEMA))
        return JournalChanges(events, list_events, position, tuple(read), until_ms)


def _numbered(table: pa.Table) -> pa.Table:
    """`seq`: the order in the journal, for events at one instant."""
    return table.append_column("seq", pa.array(np.arange(table.num_rows, dtype=np.int64)))


_EVENT_FIELDS = pa.struct(
    [
        ("type", pa.string()),
        ("action", pa.string()),
        ("objectTypeId", pa.string()),
        ("objectId", pa.int64()),
        ("occurredAt", pa.string()),
        ("listId", pa.int64()),
        ("mergedObjectIds", pa.list_(pa.int64())),
    ]
)


def _empty(schema: pa.Schema) -> pa.Table:
    """No rows of `schema` less `seq`."""
    return pa.table({f.name: pa.array([], f.type) for f in schema if f.name != "seq"})


def _entry_events(events: list[dict[str, Any]]) -> tuple[pa.Table, pa.Table]:
    """The object and list-membership events of one entry file (EVENT_SCHEMA and LIST_EVENT_SCHEMA
    less `seq`); a merge also archives the records it merged, as MERGED_AWAY rows at its time."""
    if not events:
        return _empty(EVENT_SCHEMA), _empty(LIST_EVENT_SCHEMA)
    # only the fields read: the other keys (`propertyChanges` and its values of any type) are skipped
    found = pa.array(events, type=_EVENT_FIELDS)
    present = {f.name for f in found.type}

    def column(name: str, kind: pa.DataType) -> pa.Array:
        return found.field(name).cast(kind) if name in present else pa.nulls(len(found), kind)

    kind, action = column("type", pa.string()), column("action", pa.string())
    wanted = pc.fill_null(
        pc.and_(pc.equal(kind, "crmObject"), pc.is_in(action, pa.array(OBJECT_ACTIONS))), False
    )
    occurred = column("occurredAt", pa.string()).cast(pa.timestamp("ms", "UTC")).cast(pa.int64())
    joined = pc.fill_null(
        pc.and_(pc.equal(kind, "listMembership"), pc.is_in(action, pa.array(LIST_ACTIONS))), False
    )
    memberships = pa.table(
        {
            "list_id": column("listId", pa.string()),
            "record_id": column("objectId", pa.int64()),
            "added": pc.equal(action, "ADDED_TO_LIST"),
            "occurred_ms": occurred,
        }
    ).filter(joined)
    own = pa.table(
        {
            "type_id": column("objectTypeId", pa.string()),
            "object_id": column("objectId", pa.int64()),
            "action": action,
            "occurred_ms": occurred,
        }
    ).filter(wanted)
    if "mergedObjectIds" not in present:
        return own, memberships
    merges = found.field("mergedObjectIds").filter(pc.and_(wanted, pc.equal(action, "MERGE")))
    parents = pc.list_parent_indices(merges)
    merging = own.filter(pc.equal(own["action"], "MERGE")).take(parents)
    merged = pa.table(
        {
            "type_id": merging["type_id"],
            "object_id": pc.list_flatten(merges).cast(pa.int64()),
            "action": pa.array(["MERGED_AWAY"] * len(parents), pa.string()),
            "occurred_ms": merging["occurred_ms"],
        }
    )
    return pa.concat_tables([own, merged]), memberships


def memberships_since(events: pa.Table, since_ms: int) -> tuple[pa.Table, pa.Table]:
    """From list events (LIST_EVENT_SCHEMA), each (list, record) pair's last event at or after
    `since_ms`: (the pairs touched: list_id, record_id; those a member after it: list_id, record_id,
    added_at, the join's time in ISO ms)."""
    table = events.filter(pc.greater_equal(events["occurred_ms"], since_ms)).sort_by(
        [
            ("list_id", "ascending"),
            ("record_id", "ascending"),
            ("occurred_ms", "ascending"),
            ("seq", "ascending"),
        ]
    )
    lists, records = table["list_id"].to_numpy(zero_copy_only=False), table["record_id"].to_numpy()
    last = np.append((lists[1:] != lists[:-1]) | (records[1:] != records[:-1]), True)
    table = table.filter(pa.array(last[: table.num_rows]))
    members = table.filter(table["added"])
    # %S of a millisecond timestamp prints its milliseconds: 2026-01-01T00:00:01.234Z, as `iso_ms`
    added_at = pc.strftime(members["occurred_ms"].cast(pa.timestamp("ms", "UTC")), "%Y-%m-%dT%H:%M:%SZ")
    joined = pa.table(
        {"list_id": members["list_id"], "record_id": members["record_id"], "added_at": added_at}
    )
    return table.select(["list_id", "record_id"]), joined
