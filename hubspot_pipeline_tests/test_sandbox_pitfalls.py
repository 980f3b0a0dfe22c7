"""One test per item of reference/pitfalls.md: the sandbox produces each field failure over HTTP.

The data-heavy items use `medium` (100k contacts) and `large` (1M contacts), each built once per
module; the rest use `small`, advanced by the tests that need changes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from hubspot_sandbox import Sandbox, SandboxConfig

CONTACTS = "/crm/v3/objects/contacts"
SEARCH = "/crm/v3/objects/contacts/search"
DAY_MS = 86_400_000
START = dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def small() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=8, scale="small", start_date=START)) as sb:
        yield sb


@pytest.fixture(scope="module")
def medium() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=8, scale="medium", start_date=START)) as sb:
        yield sb


@pytest.fixture(scope="module")
def wide() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=8, scale="tiny", wide=True, start_date=START)) as sb:
        yield sb


@pytest.fixture
def api(small: Sandbox) -> Iterator[requests.Session]:
    with small.session() as session:
        yield session


def now_ms(sb: Sandbox) -> int:
    return int(sb.account.now.timestamp() * 1000)


def live_ids(sb: Sandbox, type_id: str = "0-1") -> list[int]:
    return sb.account.record_ids(type_id, archived=False, after=None, limit=10**9)


def search(
    session: requests.Session, sb: Sandbox, body: dict[str, Any], path: str = SEARCH
) -> requests.Response:
    return session.post(f"{sb.base_url}{path}", json=body)


def where(*filters: tuple[str, str, Any]) -> dict[str, Any]:
    """A one-group search body: (property, operator, value) filters ANDed."""
    return {
        "filterGroups": [
            {"filters": [{"propertyName": p, "operator": o, "value": str(v)} for p, o, v in filters]}
        ]
    }


def batch_read(
    session: requests.Session, sb: Sandbox, type_name: str, ids: list[int], properties: list[str]
) -> dict[int, dict[str, Any]]:
    """Live records by id through batch read, 100 per call (the API's maximum)."""
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 100):
        body = {"inputs": [{"id": str(i)} for i in ids[start : start + 100]], "properties": properties}
        answer = session.post(f"{sb.base_url}/crm/v3/objects/{type_name}/batch/read", json=body)
        assert answer.status_code in (200, 207)  # 207: some ids were archived meanwhile
        out.update({int(r["id"]): r for r in answer.json()["results"]})
    return out


def associated(session: requests.Session, sb: Sandbox, ids: list[int]) -> dict[int, set[int]]:
    """contact -> company ids through v4 batch read, 1,000 inputs per call."""
    out: dict[int, set[int]] = {i: set() for i in ids}
    for start in range(0, len(ids), 1000):
        body = {"inputs": [{"id": str(i)} for i in ids[start : start + 1000]]}
        answer = session.post(f"{sb.base_url}/crm/v4/associations/contacts/companies/batch/read", json=body)
        assert answer.status_code in (200, 207)
        for result in answer.json()["results"]:
            assert "paging" not in result  # contacts here have fewer than 500 companies
            out[int(result["from"]["id"])] = {to["toObjectId"] for to in result["to"]}
    return out


# 1 -------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_1_wide_types_and_a_large_account_are_served(wide: Sandbox) -> None:
    with wide.session() as session:
        names = [p["name"] for p in session.get(f"{wide.base_url}/crm/v3/properties/deals").json()["results"]]
        assert len(names) >= 900
        ids = live_ids(wide, "0-3")[:10]
        records = batch_read(session, wide, "deals", ids, names)
        assert sorted(records) == ids
        assert all(len(r["properties"]) >= 900 for r in records.values())
    with Sandbox(SandboxConfig(seed=8, scale="large", start_date=START)) as large, large.session() as session:
        page = session.get(f"{large.base_url}{CONTACTS}", params={"limit": 100}).json()
        assert len(page["results"]) == 100
        total = search(session, large, {"limit": 1}).json()["total"]
        assert total >= 990_000


# 2 -------------------------------------------------------------------------------------------------


def test_2_search_cannot_page_past_10000(medium: Sandbox) -> None:
    with medium.session() as session:
        body = {"sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}], "limit": 200}
        last_page = search(session, medium, {**body, "after": "9800"})
        assert last_page.status_code == 200
        assert last_page.json()["total"] > 10_000
        assert last_page.json()["paging"]["next"]["after"] == "10000"
        beyond = search(session, medium, {**body, "after": "10000"})
        assert beyond.status_code == 400
        assert beyond.json()["category"] == "VALIDATION_ERROR"
        # the way out: window by id, which the list endpoint's ascending ids make complete
        last_id = last_page.json()["results"][-1]["id"]
        windowed = search(session, medium, {**body, **where(("hs_object_id", "GT", last_id))})
        assert int(windowed.json()["results"][0]["id"]) == live_ids(medium)[10_000]


# 3 -------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_3_bulk_update_gives_20000_records_one_modified_timestamp(medium: Sandbox) -> None:
    medium.advance(1, bulk_update=20_000)
    day_start = now_ms(medium) - DAY_MS
    with medium.session() as session:
        window = where(
            ("lastmodifieddate", "GTE", day_start + 13 * 3_600_000),
            ("lastmodifieddate", "LT", day_start + 14 * 3_600_000),
        )
        page = search(session, medium, {**window, "properties": ["lastmodifieddate"], "limit": 200}).json()
        stamp, _ = Counter(r["properties"]["lastmodifieddate"] for r in page["results"]).most_common(1)[0]
        stamp_ms = int(dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)
        same = where(("lastmodifieddate", "EQ", stamp_ms))
        answer = search(session, medium, {**same, "limit": 200, "after": "9800"})
        total = answer.json()["total"]
        # 20,000 shared the instant; the few written again later that day moved on
        assert 19_500 <= total <= 20_000
        assert search(session, medium, {**same, "limit": 200, "after": "10000"}).status_code == 400
        # windowing on (timestamp, id) gets through
        last = answer.json()["results"][-1]["id"]
        rest = search(
            session,
            medium,
            {**where(("lastmodifieddate", "EQ", stamp_ms), ("hs_object_id", "GT", last)), "limit": 1},
        )
        assert rest.json()["total"] == total - 10_000


# 4 -------------------------------------------------------------------------------------------------


def test_4_search_lags_a_fresh_write_the_list_endpoint_shows(small: Sandbox, api: requests.Session) -> None:
    before = set(live_ids(small))
    small.advance(1)
    fresh = sorted(set(live_ids(small)) - before)
    assert fresh, "a day of changes creates contacts"
    record = api.get(f"{small.base_url}{CONTACTS}/{fresh[0]}").json()
    assert record["id"] == str(fresh[0])
    listed = api.get(f"{small.base_url}{CONTACTS}", params={"after": fresh[0], "limit": 1}).json()
    assert listed["results"][0]["id"] == str(fresh[0])
    by_id = where(("hs_object_id", "EQ", fresh[0]))
    try:
        small.set_search_lag(DAY_MS / 1000)  # everything written during the last day is not indexed yet
        assert search(api, small, by_id).json()["total"] == 0
    finally:
        small.set_search_lag(0)
    assert search(api, small, by_id).json()["total"] == 1


# 5 -------------------------------------------------------------------------------------------------


def test_5_association_changes_leave_the_modified_date_alone(small: Sandbox, api: requests.Session) -> None:
    ids = live_ids(small)
    links_before = associated(api, small, ids)
    dates_before = batch_read(api, small, "contacts", ids, ["lastmodifieddate"])
    small.advance(1)
    links_after = associated(api, small, ids)
    dates_after = batch_read(api, small, "contacts", ids, ["lastmodifieddate"])
    silent = [
        i
        for i in ids
        if i in dates_after
        and links_before[i] != links_after[i]
        and dates_before[i]["properties"]["lastmodifieddate"]
        == dates_after[i]["properties"]["lastmodifieddate"]
        and dates_before[i]["updatedAt"] == dates_after[i]["updatedAt"]
    ]
    assert silent, "some contact gained or lost a company without its modified date moving"


# 6 -------------------------------------------------------------------------------------------------


def test_6_archived_records_and_merged_survivors(small: Sandbox, api: requests.Session) -> None:
    small.advance(1)
    archived = api.get(f"{small.base_url}{CONTACTS}", params={"archived": "true", "limit": 100}).json()[
        "results"
    ]
    assert archived and all(r["archived"] and r["archivedAt"] for r in archived)
    survivors = search(
        api,
        small,
        {**where(("hs_merged_object_ids", "HAS_PROPERTY", "")), "properties": ["hs_merged_object_ids"]},
    )
    results = survivors.json()["results"]
    assert results, "merges left survivors carrying hs_merged_object_ids"
    merged_id = results[0]["properties"]["hs_merged_object_ids"].split(";")[-1]
    assert api.get(f"{small.base_url}{CONTACTS}/{merged_id}").status_code == 404
    tombstone = api.get(f"{small.base_url}{CONTACTS}/{merged_id}", params={"archived": "true"}).json()
    assert tombstone["archived"] is True
    assert tombstone["archivedAt"]


# 7 -------------------------------------------------------------------------------------------------


def test_7_long_property_lists_in_the_query_string_get_414(wide: Sandbox) -> None:
    with wide.session() as session:
        names = [p["name"] for p in session.get(f"{wide.base_url}/crm/v3/properties/deals").json()["results"]]
        too_long = session.get(
            f"{wide.base_url}/crm/v3/objects/deals", params={"properties": ",".join(names)}
        )
        assert too_long.status_code == 414
        ids = live_ids(wide, "0-3")[:5]
        assert sorted(batch_read(session, wide, "deals", ids, names)) == ids, (
            "a POST body carries the same list"
        )


# 8 -------------------------------------------------------------------------------------------------


def test_8_the_three_429s() -> None:
    config = SandboxConfig(seed=8, scale="tiny", rate_limits=True, burst=3, daily=12, start_date=START)
    with Sandbox(config) as sb, sb.session() as session:
        owners = f"{sb.base_url}/crm/v3/owners"
        assert [session.get(owners).status_code for _ in range(4)] == [200, 200, 200, 429]
        assert session.get(owners).json()["policyName"] == "TEN_SECONDLY_ROLLING"
        searches = [search(session, sb, {"limit": 1}) for _ in range(6)]
        assert [r.status_code for r in searches] == [200] * 5 + [429]
        assert searches[-1].json()["message"] == "You have reached your secondly limit."
        sb.set_rate_limits(enabled=True, burst=100, daily=12)
        statuses = [session.get(owners).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429]  # 3 + 5 searches + 4 = the 12 of the day
        assert session.get(owners).json()["policyName"] == "DAILY"


# 9 -------------------------------------------------------------------------------------------------


def _longest_history(session: requests.Session, sb: Sandbox, type_name: str) -> tuple[int, str, list[dict]]:
    """The longest property history among the first 100 records, read with every property's history."""
    names = [p["name"] for p in session.get(f"{sb.base_url}/crm/v3/properties/{type_name}").json()["results"]]
    ids = sb.account.record_ids(sb.resolve_type(type_name).type_id, archived=False, after=None, limit=100)
    body = {"inputs": [{"id": str(i)} for i in ids], "properties": [], "propertiesWithHistory": names}
    records = session.post(f"{sb.base_url}/crm/v3/objects/{type_name}/batch/read", json=body).json()[
        "results"
    ]
    return max(
        ((int(r["id"]), name, h) for r in records for name, h in r["propertiesWithHistory"].items()),
        key=lambda row: len(row[2]),
    )


def test_9_history_is_capped_and_pages_with_history_stop_at_50(small: Sandbox, api: requests.Session) -> None:
    for type_name, cap in (("contacts", 45), ("deals", 20)):
        record_id, name, history = _longest_history(api, small, type_name)
        assert len(history) == cap, f"{type_name} keep {cap} values per property"
        stamps = [h["timestamp"] for h in history]
        assert stamps == sorted(stamps, reverse=True), "newest first"
        one = api.get(
            f"{small.base_url}/crm/v3/objects/{type_name}/{record_id}", params={"propertiesWithHistory": name}
        )
        assert one.json()["propertiesWithHistory"][name] == history
    url = f"{small.base_url}{CONTACTS}"
    assert api.get(url, params={"limit": 51, "propertiesWithHistory": "email"}).status_code == 400
    page = api.get(url, params={"limit": 50, "propertiesWithHistory": "email"}).json()
    assert len(page["results"]) == 50
    assert all("email" in r["propertiesWithHistory"] for r in page["results"])


# 10 ------------------------------------------------------------------------------------------------


def _property_names(session: requests.Session, sb: Sandbox) -> set[tuple[str, str]]:
    types = [t.type_id for t in sb.account.object_types() if sb.is_activated(t.type_id)]
    return {
        (t, p["name"])
        for t in types
        for p in session.get(f"{sb.base_url}/crm/v3/properties/{t}").json()["results"]
    }


def test_10_schema_drift_and_silent_calculated_changes(small: Sandbox, api: requests.Session) -> None:
    props_before = _property_names(api, small)
    schemas_before = {
        s["objectTypeId"] for s in api.get(f"{small.base_url}/crm/v3/schemas").json()["results"]
    }
    ids = live_ids(small)
    calculated = [
        p["name"]
        for p in api.get(f"{small.base_url}/crm/v3/properties/contacts").json()["results"]
        if p["calculated"]
    ]
    values_before = batch_read(api, small, "contacts", ids, calculated)
    old_types = {t for t, _ in props_before}
    added: set[tuple[str, str]] = set()
    new_types: set[str] = set()
    for _ in range(6):  # drift lands every third day, alternately a new property and a new custom object
        small.advance(1)
        added = {(t, name) for t, name in _property_names(api, small) - props_before if t in old_types}
        new_types = {s["objectTypeId"] for s in api.get(f"{small.base_url}/crm/v3/schemas").json()["results"]}
        new_types -= schemas_before
        if added and new_types:
            break
    assert added, "a property appeared on an existing type"
    assert new_types, "a custom object type appeared"
    assert api.get(f"{small.base_url}/crm/v3/objects/{min(new_types)}").json()["results"], "with records"
    values_after = batch_read(api, small, "contacts", ids, calculated)
    silent = [
        i
        for i, before in values_before.items()
        if i in values_after
        and before["updatedAt"] == values_after[i]["updatedAt"]
        and any(before["properties"].get(c) != values_after[i]["properties"].get(c) for c in calculated)
    ]
    assert silent, "a calculated property changed without moving updatedAt"
