"""HubSpot's webhooks journal (API 2026-03) as the daily sync's change feed.

Opt-in: the journal is read with an app's client-credentials token (HUBSPOT_JOURNAL_CLIENT_ID and
HUBSPOT_JOURNAL_CLIENT_SECRET; a private app's token cannot read it). The app's subscriptions select
what the journal keeps, for 3 days: each synced object type gets one `OBJECT` subscription (create,
update, delete, merge, restore; every record, every property) and one `ASSOCIATION` subscription
(added, removed; towards every type), and the account one `LIST_MEMBERSHIP` subscription, made by the
sync itself. Entries are
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

A type's edges are served on the same terms by its ASSOCIATION subscription (`associations_key`):
the association refresh then applies each edge's events to the rows the index holds (`EdgeChanges`:
an add puts its association types on the edge, a removal takes the edge whole) instead of re-reading
a slice of the pair every day (`sync.association_refresh`).
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
ASSOCIATION_ACTIONS = ("ASSOCIATION_ADDED", "ASSOCIATION_REMOVED")
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
ASSOCIATION_EVENT_SCHEMA = pa.schema(
    [
        ("from_type", pa.string()),  # the event's record (each side of an edge has its own event)
        ("from_id", pa.int64()),
        ("to_type", pa.string()),
        ("to_id", pa.int64()),
        ("added", pa.bool_()),  # ASSOCIATION_ADDED (its `type_ids`), else ASSOCIATION_REMOVED (the edge)
        ("type_ids", pa.list_(pa.int64())),
        ("occurred_ms", pa.int64()),
        ("seq", pa.int64()),
    ]
)
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
    association_events: pa.Table  # ASSOCIATION_EVENT_SCHEMA
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
        """Every change a subscription key selects (a type id: its records; `associations_key`: its
        edges; `LISTS`: every list membership) from this instant (ms) on is in `events`
        (`association_events`, `list_events`); None: not subscribed."""
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
        ).sort_by(_ordered(["object_id"]))
        return table.filter(pa.array(last_per_key(table, ["object_id"])))

    def changed(self, type_id: str, since_ms: int) -> dict[int, int]:
        """Records created, written, merged into or restored since `since_ms` and live after it: id ->
        time of the last change (as `change_search.windowed_ids` gives them)."""
        last = self._last(type_id, since_ms)
        live = last.filter(pc.invert(pc.is_in(last["action"], pa.array(_GONE))))
        return dict(zip(live["object_id"].to_pylist(), live["occurred_ms"].to_pylist(), strict=True))

    def created(self, type_id: str, since_ms: int) -> np.ndarray:
        """Sorted ids of the records the journal saw created since `since_ms`."""
        table = self.events.filter(
            pc.and_(
                pc.and_(pc.equal(self.events["type_id"], type_id), pc.equal(self.events["action"], "CREATE")),
                pc.greater_equal(self.events["occurred_ms"], since_ms),
            )
        )
        return np.unique(table["object_id"].to_numpy())

    def edges(self, from_type: str, to_type: str, since_ms: int) -> EdgeChanges:
        """The direction's edge events at or after `since_ms`, as the changes they make (EdgeChanges)."""
        events = self.association_events
        table = events.filter(
            pc.and_(
                pc.and_(pc.equal(events["from_type"], from_type), pc.equal(events["to_type"], to_type)),
                pc.greater_equal(events["occurred_ms"], since_ms),
            )
        ).sort_by(_ordered(["from_id", "to_id"]))
        keys = ["from_id", "to_id"]
        n = table.num_rows
        last = last_per_key(table, keys)
        group = np.cumsum(np.append(True, last[:-1])) - 1 if n else np.zeros(0, dtype=np.int64)
        removed = ~table["added"].to_numpy(zero_copy_only=False)
        # per edge, the row of its last removal (-1: none)
        last_removal = np.full(int(last.sum()), -1, dtype=np.int64)
        rows = np.arange(n, dtype=np.int64)
        np.maximum.at(last_removal, group[removed], rows[removed])
        kept = table.filter(pa.array(~removed & (rows > last_removal[group])))
        types = kept["type_ids"]
        parents = pc.list_parent_indices(types)
        added = pa.table(
            {
                "from_id": kept["from_id"].take(parents),
                "to_id": kept["to_id"].take(parents),
                "type_id": pc.list_flatten(types).cast(pa.int64()),
            }
        )
        reset = table.filter(pa.array(last)).filter(pa.array(last_removal >= 0))
        return EdgeChanges(
            np.unique(table["from_id"].to_numpy()),
            reset.select(keys),
            added.group_by(["from_id", "to_id", "type_id"]).aggregate([]),
        )

    def archived(self, type_id: str, since_ms: int) -> dict[int, int]:
        """Records deleted or merged away since `since_ms` and not restored after: id -> archive time."""
        last = self._last(type_id, since_ms)
        gone = last.filter(pc.is_in(last["action"], pa.array(_GONE)))
        return dict(zip(gone["object_id"].to_pylist(), gone["occurred_ms"].to_pylist(), strict=True))


def associations_key(type_id: str) -> str:
    """The key of a type's ASSOCIATION subscription in `JournalPosition.subscribed`."""
    return f"associations:{type_id}"


@dataclass(frozen=True)
class EdgeChanges:
    """What the journal says of one direction's edges since an instant, each edge by its last events.

    An add puts its association types on the edge (with those it had); a removal takes the edge with
    all its types. So an edge's types are those it had plus the ones added since, or, after a removal,
    only the ones added after the last removal (none: the edge is gone).
    """

    touched: np.ndarray  # sorted from-ids with an event
    reset: pa.Table  # from_id, to_id: edges removed since (their held types dropped)
    added: pa.Table  # from_id, to_id, type_id: types added after the edge's last removal


def _ms(delta: timedelta) -> int:
    return int(delta / timedelta(milliseconds=1))


def _ordered(keys: list[str]) -> list[tuple[str, str]]:
    return [(k, "ascending") for k in (*keys, "occurred_ms", "seq")]


def last_per_key(table: pa.Table, keys: list[str]) -> np.ndarray:
    """Of a table sorted by `keys` then time (`_ordered`), the mask of each key's last row."""
    if not table.num_rows:
        return np.zeros(0, dtype=bool)
    change = np.zeros(table.num_rows - 1, dtype=bool)
    for key in keys:
        values = table[key].to_numpy(zero_copy_only=False)
        change |= values[1:] != values[:-1]
    return np.append(change, True)


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
        """Make sure each type has an OBJECT subscription for every record and property and an
        ASSOCIATION one towards every type, and the account one LIST_MEMBERSHIP subscription (one call
        to list them, one per subscription missing); `subscribed` keeps, per subscription key (the type
        id, `associations_key`, `LISTS`), since when it has existed."""
        client = self.client
        try:
            existing = client.get(SUBSCRIPTIONS).get("results") or []
        except HubSpotAuthError as exc:
            raise JournalError(
                f"the journal app's token was rejected ({exc}); check {CLIENT_ID_VAR}"
            ) from None
        have: dict[str, int] = {}
        for sub in existing:
            key = _subscription_key(sub, self.portal_id)
            if key is not None:
                have[key] = min(have.get(key, 1 << 62), to_ms(sub.get("createdAt")) or 0)
        wanted: list[tuple[str, dict[str, Any]]] = []
        for type_id in type_ids:
            for kind, actions, key, extra in (
                ("OBJECT", OBJECT_ACTIONS, type_id, {"objectTypeId": type_id, "properties": []}),
                (
                    "ASSOCIATION",
                    ASSOCIATION_ACTIONS,
                    associations_key(type_id),
                    {"objectTypeId": type_id, "associatedObjectTypeIds": []},
                ),
            ):
                wanted.append((key, {"subscriptionType": kind, "actions": list(actions), **extra}))
        wanted.append(
            (LISTS, {"subscriptionType": "LIST_MEMBERSHIP", "actions": list(LIST_ACTIONS), "listIds": []})
        )
        for key, body in wanted:
            if key in have:
                continue
            made = client.post(SUBSCRIPTIONS, {**body, "portalId": self.portal_id, "objectIds": []})
            have[key] = to_ms(made.get("createdAt")) or 0
            log.info("journal: subscribed to %s", key)
        return JournalPosition(position.offset, position.published_ms, {t: have[t] for t in sorted(have)})

    def read(self, position: JournalPosition, until_ms: int) -> JournalChanges:
        """Every entry after the kept offset (from the earliest when there is none or HubSpot no
        longer has it) and their object and list-membership events."""
        params = {"installPortalId": self.portal_id}
        after = position.offset
        tables: list[pa.Table] = []
        lists: list[pa.Table] = []
        edges: list[pa.Table] = []
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
                objects, memberships, associations = _entry_events(entry.get("journalEvents") or [])
                tables.append(objects)
                lists.append(memberships)
                edges.append(associations)
                read.append((str(fetched["currentOffset"]), published))
            if len(results) < PAGE:
                break
            after = str(results[-1]["currentOffset"])
        events = _numbered(pa.concat_tables(tables) if tables else _empty(EVENT_SCHEMA))
        list_events = _numbered(pa.concat_tables(lists) if lists else _empty(LIST_EVENT_SCHEMA))
        edge_events = _numbered(pa.concat_tables(edges) if edges else _empty(ASSOCIATION_EVENT_SCHEMA))
        return JournalChanges(events, list_events, edge_events, position, tuple(read), until_ms)


def _subscription_key(sub: Mapping[str, Any], portal_id: int) -> str | None:
    """The `subscribed` key a listed subscription serves, if it selects everything the sync needs of
    its kind (every action, record, property and associated type) in this account; else None."""
    if sub.get("portalId") not in (None, portal_id) or sub.get("objectIds"):
        return None
    kind, actions = sub.get("subscriptionType"), set(sub.get("actions") or ())
    if kind == "LIST_MEMBERSHIP" and set(LIST_ACTIONS) <= actions and not sub.get("listIds"):
        return LISTS
    if kind == "OBJECT" and set(OBJECT_ACTIONS) <= actions and not sub.get("properties"):
        return str(sub["objectTypeId"])
    if (
        kind == "ASSOCIATION"
        and set(ASSOCIATION_ACTIONS) <= actions
        and not sub.get("associatedObjectTypeIds")
    ):
        return associations_key(str(sub["objectTypeId"]))
    return None


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
        ("associatedObjectTypeId", pa.string()),
        ("associatedObjectId", pa.int64()),
        ("associationTypeIds", pa.list_(pa.int64())),
    ]
)


def _empty(schema: pa.Schema) -> pa.Table:
    """No rows of `schema` less `seq`."""
    return pa.table({f.name: pa.array([], f.type) for f in schema if f.name != "seq"})


def _entry_events(events: list[dict[str, Any]]) -> tuple[pa.Table, pa.Table, pa.Table]:
    """The object, list-membership and association events of one entry file (EVENT_SCHEMA,
    LIST_EVENT_SCHEMA and ASSOCIATION_EVENT_SCHEMA less `seq`); a merge also archives the records it
    merged, as MERGED_AWAY rows at its time."""
    if not events:
        return _empty(EVENT_SCHEMA), _empty(LIST_EVENT_SCHEMA), _empty(ASSOCIATION_EVENT_SCHEMA)
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
    linked = pc.fill_null(
        pc.and_(pc.equal(kind, "association"), pc.is_in(action, pa.array(ASSOCIATION_ACTIONS))), False
    )
    edges = pa.table(
        {
            "from_type": column("objectTypeId", pa.string()),
            "from_id": column("objectId", pa.int64()),
            "to_type": column("associatedObjectTypeId", pa.string()),
            "to_id": column("associatedObjectId", pa.int64()),
            "added": pc.equal(action, "ASSOCIATION_ADDED"),
            "type_ids": column("associationTypeIds", pa.list_(pa.int64())),
            "occurred_ms": occurred,
        }
    ).filter(linked)
    own = pa.table(
        {
            "type_id": column("objectTypeId", pa.string()),
            "object_id": column("objectId", pa.int64()),
            "action": action,
            "occurred_ms": occurred,
        }
    ).filter(wanted)
    if "mergedObjectIds" not in present:
        return own, memberships, edges
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
    return pa.concat_tables([own, merged]), memberships, edges


def memberships_since(events: pa.Table, since_ms: int) -> tuple[pa.Table, pa.Table]:
    """From list events (LIST_EVENT_SCHEMA), each (list, record) pair's last event at or after
    `since_ms`: (the pairs touched: list_id, record_id; those a member after it: list_id, record_id,
    added_at, the join's time in ISO ms)."""
    table = events.filter(pc.greater_equal(events["occurred_ms"], since_ms)).sort_by(
        _ordered(["list_id", "record_id"])
    )
    table = table.filter(pa.array(last_per_key(table, ["list_id", "record_id"])))
    members = table.filter(table["added"])
    # %S of a millisecond timestamp prints its milliseconds: 2026-01-01T00:00:01.234Z, as `iso_ms`
    added_at = pc.strftime(members["occurred_ms"].cast(pa.timestamp("ms", "UTC")), "%Y-%m-%dT%H:%M:%SZ")
    joined = pa.table(
        {"list_id": members["list_id"], "record_id": members["record_id"], "added_at": added_at}
    )
    return table.select(["list_id", "record_id"]), joined
