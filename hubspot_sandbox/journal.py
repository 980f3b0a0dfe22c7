"""HubSpot's webhooks journal (API 2026-03) over the account's change journal (`model/journal.py`):
the OAuth apps that may get a client-credentials token, their subscriptions, and the journal's
entries, each a JSON file of the events the subscriptions selected.

Documented (README "Webhooks journal" cites each page): the token, the subscription bodies ("empty
means all" for `objectIds` and `properties`), entries named by a UUID `currentOffset`, reads of the
earliest, latest and next entries one at a time or up to 100 a call, the batch read by offsets (207
with `OBJECT_NOT_FOUND` per unknown offset), 404 for an expired or unknown offset, a pre-signed URL
per entry fetched without the bearer token, and 3 days of retention.

Chosen where HubSpot documents nothing: an entry holds the selected events of one hour of the
account's clock, at most `ENTRY_EVENTS` (the size HubSpot's July 2026 changelog is reported to give
a file), and is published when its hour is over, so a day makes at least one entry per busy hour;
the file's shape
(`{offset, publishedAt, journalEvents: [...]}`, events with `type`, `action`, `objectTypeId`,
`objectId`, `occurredAt` as public clients read it, plus the classic webhooks' merge and association
fields); 204 when there is no newer entry; file URLs valid for `URL_SECONDS` of wall-clock time.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hubspot_sandbox.model.journal import ASSOCIATION_ACTIONS, LIST_ACTIONS, OBJECT_ACTIONS, Change
from hubspot_sandbox.model.timefmt import iso_ms

if TYPE_CHECKING:
    from hubspot_sandbox.model import Account

ENTRY_MS = 60 * 60 * 1000
ENTRY_EVENTS = 10_000
URL_SECONDS = 15 * 60
TOKEN_SECONDS = 30 * 60
MAX_COUNT = 100
ACTIONS = {"OBJECT": OBJECT_ACTIONS, "ASSOCIATION": ASSOCIATION_ACTIONS, "LIST_MEMBERSHIP": LIST_ACTIONS}
EVENT_TYPES = {"OBJECT": "crmObject", "ASSOCIATION": "association", "LIST_MEMBERSHIP": "listMembership"}


class JournalRequestError(ValueError):
    """A request the journal refuses: `field` names what to fix."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class App:
    client_id: str
    client_secret: str
    scopes: frozenset[str] | None  # None: any scope


@dataclass
class Subscription:
    id: int
    subscription_type: str
    actions: tuple[str, ...]
    object_type_id: str
    object_ids: frozenset[int]
    properties: frozenset[str]
    associated_type_ids: frozenset[str]
    list_ids: frozenset[int]
    created_ms: int  # the account's clock (the sandbox's server time): it selects what happens from then on
    deleted_ms: int | None = None

    def active_at(self, ts: int) -> bool:
        return self.created_ms <= ts and (self.deleted_ms is None or ts < self.deleted_ms)

    def selects(self, change: Change) -> bool:
        if change.subscription_type != self.subscription_type or change.action not in self.actions:
            return False
        if self.object_ids and change.object_id not in self.object_ids:
            return False
        if self.subscription_type == "LIST_MEMBERSHIP":
            return not self.list_ids or change.list_id in self.list_ids
        if change.type_id != self.object_type_id:
            return False
        if self.subscription_type == "ASSOCIATION":
            return not self.associated_type_ids or change.to_type_id in self.associated_type_ids
        if change.action == "UPDATE" and self.properties:
            return any(name in self.properties for name, _ in change.properties)
        return True

    def as_dict(self, app_id: int, portal_id: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "actions": list(self.actions),
            "appId": app_id,
            "createdAt": iso_ms(self.created_ms),
            "id": self.id,
            "objectTypeId": self.object_type_id,
            "subscriptionType": self.subscription_type,
            "updatedAt": iso_ms(self.created_ms),
            "portalId": portal_id,
            "objectIds": sorted(self.object_ids),
        }
        if self.subscription_type == "OBJECT":
            out["properties"] = sorted(self.properties)
        elif self.subscription_type == "ASSOCIATION":
            out["associatedObjectTypeIds"] = sorted(self.associated_type_ids)
        else:
            out["listIds"] = sorted(self.list_ids)
        return out


@dataclass(frozen=True)
class Entry:
    offset: str
    published_ms: int
    events: tuple[tuple[Change, Subscription], ...]


@dataclass
class JournalService:
    """The apps, subscriptions and entries of one sandbox (one portal, one app id)."""

    account: Account
    seed: int
    app_id: int = 3_000_001
    entry_events: int = ENTRY_EVENTS  # the most events one entry holds
    apps: dict[str, App] = field(default_factory=dict)
    subscriptions: dict[int, Subscription] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cache: tuple[tuple[int, int, int], list[Entry]] | None = None  # (journal and clock, entries)

    # -- apps and tokens ----------------------------------------------------------------------

    def add_app(self, client_id: str, client_secret: str, scopes: Iterable[str] | None = None) -> None:
        with self._lock:
            self.apps[client_id] = App(
                client_id, client_secret, None if scopes is None else frozenset(scopes)
            )

    def grant(self, form: dict[str, str]) -> tuple[str, frozenset[str], int]:
        """(token, scopes, seconds) for a client-credentials request, or JournalRequestError."""
        if form.get("grant_type") != "client_credentials":
            raise JournalRequestError("grant_type must be client_credentials", "grant_type")
        app = self.apps.get(form.get("client_id", ""))
        if app is None:
            raise JournalRequestError("missing or unknown client_id", "client_id")
        if form.get("client_secret") != app.client_secret:
            raise JournalRequestError("client_secret does not match the client_id", "client_secret")
        asked = frozenset(s for s in form.get("scope", "").replace(",", " ").split() if s)
        if app.scopes is not None and not asked <= app.scopes:
            raise JournalRequestError(
                f"scopes not allowed for this app: {sorted(asked - app.scopes)}", "scope"
            )
        token = "cc-" + uuid.uuid4().hex
        return token, asked, TOKEN_SECONDS

    # -- subscriptions ------------------------------------------------------------------------

    def subscribe(self, body: dict[str, Any]) -> Subscription:
        kind = body.get("subscriptionType", "OBJECT")
        if kind not in ACTIONS:
            raise JournalRequestError(
                f"subscriptionType must be one of {sorted(ACTIONS)}", "subscriptionType"
            )
        needed = ["portalId", "actions", "objectIds"] + {
            "OBJECT": ["objectTypeId", "properties"],
            "ASSOCIATION": ["objectTypeId", "associatedObjectTypeIds"],
            "LIST_MEMBERSHIP": ["listIds"],
        }[kind]
        for name in needed:
            if name not in body:
                raise JournalRequestError(f"{name} is required for a {kind} subscription", name)
        if body["portalId"] != self.account.portal_id:
            raise JournalRequestError(f"portalId {body['portalId']} has not installed this app", "portalId")
        actions = tuple(body["actions"])
        wrong = [a for a in actions if a not in ACTIONS[kind]]
        if not actions or wrong:
            raise JournalRequestError(
                f"actions of a {kind} subscription must be among {ACTIONS[kind]}", "actions"
            )
        type_id = str(body.get("objectTypeId") or "")
        if type_id and self.account.resolve_type(type_id) is None:
            raise JournalRequestError(f"unknown objectTypeId {type_id}", "objectTypeId")
        with self._lock:
            sub = Subscription(
                id=len(self.subscriptions) + 1,
                subscription_type=kind,
                actions=actions,
                object_type_id=self.account.resolve_type(type_id).type_id if type_id else "",  # type: ignore[union-attr]
                object_ids=frozenset(int(i) for i in body["objectIds"]),
                properties=frozenset(body.get("properties") or ()),
                associated_type_ids=frozenset(str(t) for t in body.get("associatedObjectTypeIds") or ()),
                list_ids=frozenset(int(i) for i in body.get("listIds") or ()),
                created_ms=self.account.now_ms,
            )
            self.subscriptions[sub.id] = sub
            self._cache = None
        return sub

    def unsubscribe(self, subscription_id: int) -> bool:
        with self._lock:
            sub = self.subscriptions.get(subscription_id)
            if sub is None or sub.deleted_ms is not None:
                return False
            sub.deleted_ms = self.account.now_ms
            self._cache = None
            return True

    def live_subscriptions(self) -> list[Subscription]:
        with self._lock:
            return [s for s in self.subscriptions.values() if s.deleted_ms is None]

    # -- entries ------------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Every retained entry, oldest first (rebuilt when the journal or the subscriptions change)."""
        journal = self.account.journal
        with self._lock:
            key = (len(journal.changes), journal.oldest_ms or 0, self.account.now_ms)
            if self._cache is not None and self._cache[0] == key:
                return self._cache[1]
            subs: dict[tuple[str, str], list[Subscription]] = {}
            for s in self.subscriptions.values():
                subs.setdefault((s.subscription_type, s.object_type_id), []).append(s)
            out: list[Entry] = []
            bucket: int | None = None
            events: list[tuple[Change, Subscription]] = []

            def close() -> None:
                if bucket is not None and events:
                    size = self.entry_events
                    for part in range(0, len(events), size):
                        digest = hashlib.sha256(f"{self.seed}|{bucket}|{part}".encode()).digest()
                        offset = str(uuid.UUID(bytes=digest[:16], version=4))
                        out.append(Entry(offset, (bucket + 1) * ENTRY_MS, tuple(events[part : part + size])))

            for change in journal.changes:
                kind = change.subscription_type
                near = subs.get((kind, "" if kind == "LIST_MEMBERSHIP" else change.type_id), ())
                sub = next((s for s in near if s.active_at(change.ts) and s.selects(change)), None)
                if sub is None:
                    continue
                at = change.ts // ENTRY_MS
                if at != bucket:
                    close()
                    bucket, events = at, []
                events.append((change, sub))
            close()
            # an entry is published once its hour is over
            out = [e for e in out if e.published_ms <= self.account.now_ms]
            self._cache = (key, out)
            return out

    def file(self, entry: Entry) -> dict[str, Any]:
        portal = self.account.portal_id
        return {
            "offset": entry.offset,
            "publishedAt": iso_ms(entry.published_ms),
            "journalEvents": [_event(change, sub, portal) for change, sub in entry.events],
        }


def _event(change: Change, sub: Subscription, portal_id: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": EVENT_TYPES[change.subscription_type],
        "portalId": portal_id,
        "subscriptionId": sub.id,
        "occurredAt": iso_ms(change.ts),
        "action": change.action,
        "objectTypeId": change.type_id,
        "objectId": change.object_id,
    }
    if change.properties and change.action in ("UPDATE", "MERGE", "RESTORE"):
        wanted = sub.properties
        out["propertyChanges"] = {n: v for n, v in change.properties if not wanted or n in wanted}
    if change.action == "MERGE":
        out["primaryObjectId"] = change.object_id
        out["mergedObjectIds"] = list(change.merged_ids)
    if change.to_type_id:
        out["associatedObjectTypeId"] = change.to_type_id
        out["associatedObjectId"] = change.to_object_id
        if change.association_type_ids:
            out["associationTypeIds"] = list(change.association_type_ids)
    if change.list_id:
        out["listId"] = change.list_id
    return out
