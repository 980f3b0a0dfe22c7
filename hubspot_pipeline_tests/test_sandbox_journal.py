"""The sandbox's webhooks journal: client-credentials tokens, subscriptions, entries and files, and
that what the journal says is what the account's days did."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import requests

from hubspot_sandbox import Sandbox, SandboxConfig
from hubspot_sandbox.journal import ENTRY_EVENTS, ENTRY_MS
from hubspot_sandbox.model.timefmt import DAY_MS
from hubspot_sandbox.routes import JOURNAL_ROUTE_KEYS, ROUTES

BASE = "/webhooks-journal/journal-local/2026-03"
SUBSCRIPTIONS = "/webhooks-journal/subscriptions/2026-03"
SCOPES = "developer.webhooks_journal.read developer.webhooks_journal.subscriptions.write"
OBJECT_ACTIONS = ["CREATE", "UPDATE", "DELETE", "MERGE", "RESTORE"]


def token(sb: Sandbox, scope: str = SCOPES, secret: str = "s3cret") -> requests.Response:
    form = {"grant_type": "client_credentials", "client_id": "app-1", "client_secret": secret, "scope": scope}
    return requests.post(f"{sb.base_url}/oauth/v1/token", data=form, timeout=30)


def app_session(sb: Sandbox) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token(sb).json()['access_token']}"
    return session


def subscribe_all(sb: Sandbox, api: requests.Session) -> None:
    portal = sb.account.portal_id
    for type_id in sb.account.tables:
        body = {"subscriptionType": "OBJECT", "portalId": portal, "objectTypeId": type_id,
                "actions": OBJECT_ACTIONS, "objectIds": [], "properties": []}  # fmt: skip
        assert api.post(sb.base_url + SUBSCRIPTIONS, json=body).status_code == 200
        body = {"subscriptionType": "ASSOCIATION", "portalId": portal, "objectTypeId": type_id,
                "actions": ["ASSOCIATION_ADDED", "ASSOCIATION_REMOVED"], "objectIds": [],
                "associatedObjectTypeIds": []}  # fmt: skip
        assert api.post(sb.base_url + SUBSCRIPTIONS, json=body).status_code == 200
    body = {"subscriptionType": "LIST_MEMBERSHIP", "portalId": portal,
            "actions": ["ADDED_TO_LIST", "REMOVED_FROM_LIST"], "objectIds": [], "listIds": []}  # fmt: skip
    assert api.post(sb.base_url + SUBSCRIPTIONS, json=body).status_code == 200


def read_all(sb: Sandbox, api: requests.Session, after: str | None = None) -> list[dict[str, Any]]:
    """Every entry after `after` (all when None), as fetch responses, paging 100 at a time."""
    out: list[dict[str, Any]] = []
    while True:
        path = f"{BASE}/batch/{after}/next/100" if after else f"{BASE}/batch/earliest/100"
        page = api.get(sb.base_url + path)
        assert page.status_code == 200, page.text
        results = page.json()["results"]
        if not results or (after is None and out):
            return out
        out += results
        after = results[-1]["currentOffset"]


def events(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    files = [requests.get(e["url"], timeout=30) for e in entries]  # pre-signed: no bearer token
    assert all(f.status_code == 200 for f in files)
    return [event for f in files for event in f.json()["journalEvents"]]


@pytest.fixture(scope="module")
def day() -> Iterator[tuple[Sandbox, dict[str, Any], list[dict[str, Any]]]]:
    """A small account subscribed to everything, one day advanced: (sandbox, state before, entries)."""
    with Sandbox(SandboxConfig(seed=5, scale="small")) as sb:
        sb.add_app("app-1", "s3cret")
        subscribe_all(sb, app_session(sb))
        acct = sb.account
        before = {
            "lists": {
                x.list_id: set(acct.tables[x.object_type_id].ids[x.members].tolist()) for x in acct.lists_
            },
            "edges": {k: set(zip(e.a.tolist(), e.b.tolist(), strict=True)) for k, e in acct.edges.items()},
        }
        sb.advance(1)
        yield sb, before, read_all(sb, app_session(sb))


def test_a_client_credentials_token_opens_the_journal_and_nothing_the_app_was_not_granted() -> None:
    with Sandbox(SandboxConfig(seed=5, scale="tiny")) as sb:
        sb.add_app("app-1", "s3cret", scopes=SCOPES.split())
        good = token(sb)
        assert good.status_code == 200
        assert good.json()["token_type"] == "bearer" and good.json()["expires_in"] == 1800
        assert token(sb, secret="wrong").json()["status"] == "BAD_CLIENT_SECRET"
        refused = token(sb, scope=SCOPES + " crm.objects.contacts.read")
        assert refused.status_code == 400 and "crm.objects.contacts.read" in refused.json()["message"]
        api = app_session(sb)
        assert api.get(f"{sb.base_url}{BASE}/earliest").status_code == 204  # nothing journaled yet
        assert api.get(f"{sb.base_url}/crm/v3/objects/contacts").status_code == 403
        assert requests.get(f"{sb.base_url}{BASE}/earliest", timeout=30).status_code == 401
        no_props = {"subscriptionType": "OBJECT", "portalId": sb.account.portal_id, "objectTypeId": "0-1",
                    "actions": ["UPDATE"], "objectIds": []}  # fmt: skip
        answer = api.post(sb.base_url + SUBSCRIPTIONS, json=no_props)
        assert answer.status_code == 400 and "properties" in answer.json()["message"]


def test_the_journal_names_every_record_the_day_created_changed_deleted_or_merged(day) -> None:
    sb, _, entries = day
    acct = sb.account
    start, end = acct.now_ms - DAY_MS, acct.now_ms
    found = events(entries)
    for type_id, table in acct.tables.items():
        stamps = (table.updated, table.created, table.archived)
        truth = set(table.ids[np.logical_or.reduce([(s >= start) & (s < end) for s in stamps])].tolist())
        objects = [e for e in found if e["type"] == "crmObject" and e["objectTypeId"] == type_id]
        named = {e["objectId"] for e in objects} | {m for e in objects for m in e.get("mergedObjectIds", ())}
        assert named == truth, type_id
        deleted = {e["objectId"] for e in objects if e["action"] == "DELETE"}
        merged = {m for e in objects for m in e.get("mergedObjectIds", ())}
        gone = set(table.ids[(table.archived >= start) & (table.archived < end)].tolist())
        assert deleted | merged == gone, type_id
    updates = [e for e in found if e["action"] == "UPDATE" and e["objectTypeId"] == "0-1"]
    assert updates and all(e["propertyChanges"]["lastmodifieddate"] == e["occurredAt"] for e in updates)


def test_list_and_association_events_take_the_day_before_to_the_day_after(day) -> None:
    sb, before, entries = day
    acct = sb.account
    found = events(entries)
    for lst in acct.lists_:
        table = acct.tables[lst.object_type_id]
        mine = [e for e in found if e["type"] == "listMembership" and e["listId"] == lst.list_id]
        members = set(before["lists"][lst.list_id])
        for e in mine:
            (members.add if e["action"] == "ADDED_TO_LIST" else members.discard)(e["objectId"])
        dead = set(table.ids[table.archived != 0].tolist())
        assert members - dead == set(table.ids[lst.members].tolist()), lst.list_id
    for (a_type, b_type), edges in acct.edges.items():
        if (a_type, b_type) != (edges.pair.a, edges.pair.b):
            continue
        ids_a, ids_b = acct.tables[a_type].ids, acct.tables[b_type].ids
        pairs = {(int(ids_a[a]), int(ids_b[b])) for a, b in before["edges"][(a_type, b_type)]}
        for e in found:
            if e["type"] == "association" and (e["objectTypeId"], e["associatedObjectTypeId"]) == (
                a_type,
                b_type,
            ):
                key = (e["objectId"], e["associatedObjectId"])
                if edges.pair.same_type:
                    key = (min(key), max(key))
                (pairs.add if e["action"] == "ASSOCIATION_ADDED" else pairs.discard)(key)
        if edges.pair.same_type:
            pairs = {(min(p), max(p)) for p in pairs}
        dead_a = set(ids_a[acct.tables[a_type].archived != 0].tolist())
        dead_b = set(ids_b[acct.tables[b_type].archived != 0].tolist())
        after = {
            (int(ids_a[a]), int(ids_b[b])) for a, b in zip(edges.a.tolist(), edges.b.tolist(), strict=True)
        }
        if edges.pair.same_type:
            after = {(min(p), max(p)) for p in after}
        assert {p for p in pairs if p[0] not in dead_a and p[1] not in dead_b} == after, (a_type, b_type)


def test_entries_are_hourly_stable_paged_and_fetched_without_the_token(day) -> None:
    sb, _, entries = day
    api = app_session(sb)
    files = [requests.get(e["url"], timeout=30).json() for e in entries]
    published = [f["publishedAt"] for f in files]
    assert published == sorted(published) and len(set(published)) == len(published) <= 24
    assert all(0 < len(f["journalEvents"]) <= ENTRY_EVENTS for f in files)
    assert [f["offset"] for f in files] == [e["currentOffset"] for e in entries]
    # the same offsets read again, one at a time
    first = api.get(f"{sb.base_url}{BASE}/earliest").json()
    assert first["currentOffset"] == entries[0]["currentOffset"]
    step = api.get(f"{sb.base_url}{BASE}/offset/{entries[0]['currentOffset']}/next").json()
    assert step["currentOffset"] == entries[1]["currentOffset"]
    last = entries[-1]["currentOffset"]
    assert api.get(f"{sb.base_url}{BASE}/latest").json()["currentOffset"] == last
    assert api.get(f"{sb.base_url}{BASE}/offset/{last}/next").status_code == 204
    assert api.get(f"{sb.base_url}{BASE}/batch/{last}/next/100").json()["results"] == []
    assert api.get(f"{sb.base_url}{BASE}/batch/earliest/101").status_code == 400
    unknown = "8a5b7d1e-0000-4000-8000-000000000000"
    read = api.post(f"{sb.base_url}{BASE}/batch/read", json={"inputs": [last, unknown]})
    assert read.status_code == 207
    assert [r["currentOffset"] for r in read.json()["results"]] == [last]
    assert read.json()["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert api.post(f"{sb.base_url}{BASE}/batch/read", json={"inputs": ["not-a-uuid"]}).status_code == 400
    assert api.get(f"{sb.base_url}{BASE}/offset/{unknown}/next").status_code == 404
    assert requests.get(entries[0]["url"].split("?")[0], timeout=30).status_code == 403  # unsigned
    with Sandbox(SandboxConfig(seed=5, scale="small")) as twin:  # deterministic: same offsets, same files
        twin.add_app("app-1", "s3cret")
        subscribe_all(twin, app_session(twin))
        twin.advance(1)
        again = read_all(twin, app_session(twin))
        assert [e["currentOffset"] for e in again] == [e["currentOffset"] for e in entries]
        assert requests.get(again[3]["url"], timeout=30).json() == files[3]


def test_subscriptions_select_what_happens_after_them_and_three_days_are_kept() -> None:
    with Sandbox(SandboxConfig(seed=5, scale="tiny")) as sb:
        sb.add_app("app-1", "s3cret")
        api = app_session(sb)
        sb.advance(1)  # before any subscription: never journaled
        portal = sb.account.portal_id
        body = {"subscriptionType": "OBJECT", "portalId": portal, "objectTypeId": "contacts",
                "actions": ["UPDATE"], "objectIds": [], "properties": ["hs_lead_status"]}  # fmt: skip
        sub = api.post(sb.base_url + SUBSCRIPTIONS, json=body).json()
        assert sub["objectTypeId"] == "0-1" and sub["properties"] == ["hs_lead_status"]
        assert api.get(sb.base_url + SUBSCRIPTIONS).json()["results"] == [sub]
        assert api.get(f"{sb.base_url}{BASE}/earliest").status_code == 204
        sb.advance(1, bulk_update=5)  # five contacts get hs_lead_status
        first_day = read_all(sb, api)
        found = events(first_day)
        assert len(found) == 5 and {tuple(e["propertyChanges"]) for e in found} == {("hs_lead_status",)}
        assert all(e["occurredAt"] >= "2026-01-02" for e in found)
        assert api.delete(f"{sb.base_url}{SUBSCRIPTIONS}/{sub['id']}").status_code == 204
        sb.advance(1, bulk_update=5)  # unsubscribed: nothing new
        assert read_all(sb, api, first_day[-1]["currentOffset"]) == []
        sb.advance(2)
        # the first day's entries are older than 3 days now: gone, and their offset with them
        assert api.get(f"{sb.base_url}{BASE}/earliest").status_code == 204
        gone = api.get(f"{sb.base_url}{BASE}/offset/{first_day[-1]['currentOffset']}/next")
        assert gone.status_code == 404 and gone.json()["category"] == "OBJECT_NOT_FOUND"
        assert requests.get(first_day[0]["url"], timeout=30).status_code == 404


def test_an_hour_with_more_than_a_file_holds_is_cut_into_several_entries() -> None:
    with Sandbox(SandboxConfig(seed=5, scale="small")) as sb:
        sb.journal.entry_events = 100  # ENTRY_EVENTS at small scale
        sb.add_app("app-1", "s3cret")
        api = app_session(sb)
        body = {"subscriptionType": "OBJECT", "portalId": sb.account.portal_id, "objectTypeId": "0-1",
                "actions": ["UPDATE"], "objectIds": [], "properties": []}  # fmt: skip
        api.post(sb.base_url + SUBSCRIPTIONS, json=body)
        sb.advance(1, bulk_update=250)  # one instant, more events than one file holds
        entries = read_all(sb, api)
        files = [requests.get(e["url"], timeout=30).json() for e in entries]
        hours = [f["publishedAt"] for f in files]
        busy = [f for f in files if len(f["journalEvents"]) == 100]
        assert len(busy) >= 2 and max(len(f["journalEvents"]) for f in files) == 100
        assert sum(len(f["journalEvents"]) for f in files if f["publishedAt"] == busy[0]["publishedAt"]) > 250
        assert len({e["currentOffset"] for e in entries}) == len(entries)  # each part its own offset
        assert all(int(h[11:13]) * 3_600_000 % ENTRY_MS == 0 for h in hours)  # published on the hour
        assert ENTRY_EVENTS == 10_000


def test_every_journal_handler_is_reached_and_subscriptions_are_read_and_removed(day) -> None:
    sb, _, _ = day
    api = app_session(sb)
    listed = api.get(sb.base_url + SUBSCRIPTIONS).json()["results"]
    one = api.get(f"{sb.base_url}{SUBSCRIPTIONS}/{listed[0]['id']}").json()
    assert one == listed[0] and one["portalId"] == sb.account.portal_id
    assert api.get(f"{sb.base_url}{SUBSCRIPTIONS}/999999").status_code == 404
    latest = api.get(f"{sb.base_url}{BASE}/batch/latest/2").json()["results"]
    assert [e["currentOffset"] for e in latest] == [e["currentOffset"] for e in read_all(sb, api)[-2:]]
    elsewhere = api.get(f"{sb.base_url}{BASE}/batch/latest/2", params={"installPortalId": 1}).json()
    assert elsewhere["results"] == []
    portal = sb.account.portal_id
    assert api.delete(f"{sb.base_url}{SUBSCRIPTIONS}/portals/{portal}").status_code == 204
    assert api.get(sb.base_url + SUBSCRIPTIONS).json()["results"] == []
    assert api.delete(f"{sb.base_url}{SUBSCRIPTIONS}/{listed[0]['id']}").status_code == 404  # gone already
    # already journaled entries stay: a subscription selects what happens while it lives
    assert len(read_all(sb, api)) == len(day[2])
    journal_routes = [r for r in ROUTES if r.key in JOURNAL_ROUTE_KEYS]
    local = {
        r.key for r in journal_routes if "/webhooks-journal/journal/" not in r.key
    }  # the global: same handlers
    assert {k for k in sb.calls if k in JOURNAL_ROUTE_KEYS} == local
