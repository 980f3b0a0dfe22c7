"""The sandbox's legacy record lists (deals v1, companies v2, contacts v1, engagements v1), the search
body's top-level `filters` and the inline association paging of v3 object reads.

The legacy answers must hold the same records, values and history as the v3 endpoints of the same
account and day. The golden of this file (`data/sandbox_golden_legacy_records.json`) holds the
sha256 of each answer, masked as in `test_sandbox_golden.py`; re-record after an intended change:

    .venv/bin/python -m hubspot_pipeline_tests.test_sandbox_legacy_records --record
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from hubspot_pipeline_tests import test_sandbox_golden as golden
from hubspot_pipeline_tests.sandbox_session import clean_session
from hubspot_pipeline_tests.test_sandbox_golden import GoldenRequest
from hubspot_sandbox import Sandbox, SandboxConfig
from hubspot_sandbox.endpoints import legacy_records, objects
from hubspot_sandbox.model import Account
from hubspot_sandbox.model.timefmt import DAY_MS, parse_time_ms
from hubspot_sandbox.routes import ROUTES

FIXTURE = Path(__file__).parent / "data" / "sandbox_golden_legacy_records.json"
TOKEN = "pat-legacy"
CONFIG = SandboxConfig(seed=5, scale="tiny", token=TOKEN)
ENGAGEMENTS = ("tasks", "notes", "meetings", "calls", "emails")
GOLDEN_CONFIGS: dict[str, SandboxConfig] = {
    "tiny": SandboxConfig(seed=1, scale="tiny"),
    "tiny-wide": SandboxConfig(seed=2, scale="tiny", wide=True),
    "small": SandboxConfig(seed=1, scale="small"),
}
DAYS = (0, 2)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(CONFIG) as sandbox:
        sandbox.advance(2)  # changed, archived and new records exist
        yield sandbox


@pytest.fixture
def api(sb: Sandbox) -> Iterator[requests.Session]:
    with clean_session(sb) as session:
        yield session


# -- v3 ground truth over HTTP -----------------------------------------------------------------


def v3_all(
    sb: Sandbox, api: requests.Session, object_type: str, properties: list[str], history: list[str] = ()
) -> list[dict[str, Any]]:
    """Every live record of a type through the v3 list endpoint."""
    params: dict[str, Any] = {"limit": 50 if history else 100, "properties": ",".join(properties)}
    if history:
        params["propertiesWithHistory"] = ",".join(history)
    out: list[dict[str, Any]] = []
    url = f"{sb.base_url}/crm/v3/objects/{object_type}"
    while True:
        body = api.get(url, params=params).json()
        out += body["results"]
        if "paging" not in body:
            return out
        params["after"] = body["paging"]["next"]["after"]


def v3_types(sb: Sandbox, api: requests.Session, object_type: str) -> dict[str, str]:
    answer = api.get(f"{sb.base_url}/crm/v3/properties/{object_type}").json()
    return {p["name"]: p["type"] for p in answer["results"]}


def legacy_value(kind: str, value: str | None) -> str | None:
    """A v3 value as the legacy APIs write it: dates and datetimes as epoch ms."""
    if value and kind in ("datetime", "date"):
        return str(parse_time_ms(value))
    return value


def walk(
    api: requests.Session, url: str, params: dict[str, Any], items: str, more: str, offsets: dict[str, str]
) -> tuple[list[dict[str, Any]], int]:
    """Every item of an offset-paged legacy list; `offsets` maps answer fields to request parameters."""
    out: list[dict[str, Any]] = []
    pages = 0
    while True:
        response = api.get(url, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        out += body[items]
        if not body[more]:
            return out, pages
        params = {**params, **{param: body[field] for field, param in offsets.items()}}


# -- deals and companies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "object_type", "items", "more", "key"),
    [
        ("/deals/v1/deal/paged", "deals", "deals", "hasMore", "dealId"),
        ("/companies/v2/companies/paged", "companies", "companies", "has-more", "companyId"),
    ],
)
def test_paged_records_equal_the_v3_list_values_and_history(
    sb: Sandbox, api: requests.Session, path: str, object_type: str, items: str, more: str, key: str
) -> None:
    types = v3_types(sb, api, object_type)
    values = ["createdate", "amount", "name", "dealname", "domain", "hs_lastmodifieddate"]
    history = ["dealstage", "closedate", "industry", "hubspot_owner_id"]
    values = [n for n in values if n in types]
    history = [n for n in history if n in types]
    got, pages = walk(
        api,
        f"{sb.base_url}{path}",
        {"limit": 4, "properties": values, "propertiesWithHistory": ",".join(history)},
        items,
        more,
        {"offset": "offset"},
    )
    want = v3_all(sb, api, object_type, [*values, *history], history)
    assert [r[key] for r in got] == [int(r["id"]) for r in want]
    assert pages == -(-len(want) // 4)
    for legacy, v3 in zip(got, want, strict=True):
        assert legacy["portalId"] == sb.account.portal_id
        assert legacy["isDeleted"] is False
        props = legacy["properties"]
        assert set(props) <= {*values, *history}
        for name in values:
            expected = legacy_value(types[name], v3["properties"].get(name))
            assert (props[name]["value"] if name in props else None) == expected, (legacy[key], name)
            if name in props:
                assert len(props[name]["versions"]) == 1, "without history: the newest version only"
        for name in history:
            entries = v3["propertiesWithHistory"][name]
            if not entries:
                assert name not in props
                continue
            member = props[name]
            versions = [
                (v["value"], v["timestamp"], v["source"], v["sourceId"], v["name"])
                for v in member["versions"]
            ]
            assert versions == [
                (
                    legacy_value(types[name], e["value"]),
                    parse_time_ms(e["timestamp"]),
                    e["sourceType"],
                    e.get("sourceId"),
                    name,
                )
                for e in entries
            ]
            assert (member["value"], member["timestamp"]) == versions[0][:2]
            assert member["value"] == legacy_value(types[name], v3["properties"][name])


def test_deals_paged_defaults_associations_and_limits(sb: Sandbox, api: requests.Session) -> None:
    url = f"{sb.base_url}/deals/v1/deal/paged"
    body = api.get(url).json()
    deals = v3_all(sb, api, "deals", ["dealname"])
    assert len(body["deals"]) == min(100, len(deals)), "limit defaults to 100"
    assert all(d["properties"] == {} for d in body["deals"]), "no properties unless asked"
    assert "associations" not in body["deals"][0]
    linked = api.get(url, params={"includeAssociations": "true", "limit": 250}).json()["deals"]
    for deal in linked[:5]:
        v4 = api.get(f"{sb.base_url}/crm/v4/objects/deals/{deal['dealId']}/associations/contacts").json()
        assert deal["associations"]["associatedVids"] == [r["toObjectId"] for r in v4["results"]]
        assert set(deal["associations"]) == {
            "associatedVids", "associatedCompanyIds", "associatedDealIds", "associatedTicketIds",
        }  # fmt: skip
    for params in ({"limit": 251}, {"limit": 0}, {"offset": "x"}):
        response = api.get(url, params=params)
        assert response.status_code == 400, params
        assert response.json()["category"] == "VALIDATION_ERROR"
    assert api.get(f"{sb.base_url}/companies/v2/companies/paged", params={"limit": 251}).status_code == 400


# -- contacts ----------------------------------------------------------------------------------


def test_all_contacts_equal_the_v3_list_with_history(sb: Sandbox, api: requests.Session) -> None:
    types = v3_types(sb, api, "contacts")
    names = ["email", "lifecyclestage", "createdate", "firstname"]
    got, pages = walk(
        api,
        f"{sb.base_url}/contacts/v1/lists/all/contacts/all",
        {"count": 7, "property": names, "propertyMode": "value_and_history"},
        "contacts",
        "has-more",
        {"vid-offset": "vidOffset"},
    )
    want = v3_all(sb, api, "contacts", names, names)
    assert [c["vid"] for c in got] == [int(r["id"]) for r in want]
    assert pages == -(-len(want) // 7)
    for legacy, v3 in zip(got, want, strict=True):
        assert legacy["canonical-vid"] == legacy["vid"]
        assert legacy["portal-id"] == sb.account.portal_id
        assert legacy["addedAt"] == parse_time_ms(v3["createdAt"])
        for name in names:
            entries = v3["propertiesWithHistory"][name]
            if not entries:
                assert name not in legacy["properties"]
                continue
            member = legacy["properties"][name]
            assert member["value"] == legacy_value(types[name], v3["properties"][name])
            assert [(v["value"], v["timestamp"], v["source-type"], v["source-id"]) for v in member["versions"]] == [
                (legacy_value(types[name], e["value"]), parse_time_ms(e["timestamp"]), e["sourceType"],
                 e.get("sourceId"))
                for e in entries
            ]  # fmt: skip


def test_all_contacts_defaults_value_only_and_limits(sb: Sandbox, api: requests.Session) -> None:
    url = f"{sb.base_url}/contacts/v1/lists/all/contacts/all"
    body = api.get(url).json()
    assert len(body["contacts"]) == 20, "count defaults to 20"
    assert body["has-more"] is True
    assert body["vid-offset"] == body["contacts"][-1]["vid"]
    for contact in body["contacts"]:
        assert set(contact["properties"]) <= {"firstname", "lastname", "company", "lastmodifieddate"}
        assert all(set(member) == {"value"} for member in contact["properties"].values())
    assert api.get(url, params={"count": 100}).status_code == 200
    assert api.get(url, params={"count": 101}).status_code == 400
    assert api.get(url, params={"propertyMode": "everything"}).status_code == 400


# -- engagements -------------------------------------------------------------------------------


def test_engagements_paged_hold_every_activity_record(sb: Sandbox, api: requests.Session) -> None:
    got, pages = walk(
        api,
        f"{sb.base_url}/engagements/v1/engagements/paged",
        {"limit": 5},
        "results",
        "hasMore",
        {"offset": "offset"},
    )
    v3 = {
        name: {
            int(r["id"]): r
            for r in v3_all(sb, api, name, ["hs_note_body", "hs_task_subject", "hs_call_title"])
        }
        for name in ENGAGEMENTS
    }
    every = sorted(i for records in v3.values() for i in records)
    assert [e["engagement"]["id"] for e in got] == every
    assert pages == -(-len(every) // 5)
    by_type = {"TASK": "tasks", "NOTE": "notes", "MEETING": "meetings", "CALL": "calls", "EMAIL": "emails"}
    for item in got:
        engagement = item["engagement"]
        name = by_type[engagement["type"]]
        record = v3[name][engagement["id"]]
        assert engagement["createdAt"] == parse_time_ms(record["createdAt"])
        assert engagement["lastUpdated"] == parse_time_ms(record["updatedAt"])
        assert set(item) == {"engagement", "associations", "attachments", "metadata"}
        if name == "notes":
            assert item["metadata"]["body"] == record["properties"]["hs_note_body"]
        if name == "tasks":
            assert item["metadata"]["subject"] == record["properties"]["hs_task_subject"]
        if name == "calls":
            assert item["metadata"]["title"] == record["properties"]["hs_call_title"]
    for item in got[:8]:
        name = by_type[item["engagement"]["type"]]
        v4 = api.get(
            f"{sb.base_url}/crm/v4/objects/{name}/{item['engagement']['id']}/associations/contacts"
        ).json()
        assert item["associations"]["contactIds"] == [r["toObjectId"] for r in v4["results"]]
    assert (
        api.get(f"{sb.base_url}/engagements/v1/engagements/paged", params={"limit": 251}).status_code == 400
    )


# -- recently modified -------------------------------------------------------------------------


def v3_modified_since(sb: Sandbox, api: requests.Session, object_type: str, since_ms: int) -> list[int]:
    """Ids of live records modified at or after `since_ms`, by v3 search (newest first)."""
    modified = "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"
    body = {
        "filterGroups": [
            {"filters": [{"propertyName": modified, "operator": "GTE", "value": str(since_ms)}]}
        ],
        "sorts": [{"propertyName": modified, "direction": "DESCENDING"}],
        "limit": 200,
    }
    answer = api.post(f"{sb.base_url}/crm/v3/objects/{object_type}/search", json=body).json()
    assert answer["total"] <= 200
    return [int(r["id"]) for r in answer["results"]]


@pytest.mark.parametrize(
    ("path", "object_type", "key"),
    [
        ("/deals/v1/deal/recent/modified", "deals", "dealId"),
        ("/companies/v2/companies/recent/modified", "companies", "companyId"),
    ],
)
def test_recently_modified_records_are_the_last_30_days_newest_first(
    sb: Sandbox, api: requests.Session, path: str, object_type: str, key: str
) -> None:
    floor = sb.account.now_ms - 30 * DAY_MS
    url = f"{sb.base_url}{path}"
    got, _ = walk(api, url, {"count": 3}, "results", "hasMore", {"offset": "offset"})
    want = v3_modified_since(sb, api, object_type, floor)
    assert want, "the account has recent changes"
    assert sorted(r[key] for r in got) == sorted(want)
    stamps = [int(r["properties"]["hs_lastmodifieddate"]["value"]) for r in got]
    assert stamps == sorted(stamps, reverse=True) and min(stamps) >= floor
    first = api.get(url, params={"count": 3}).json()
    assert first["total"] == len(want) and first["offset"] == 3 and first["hasMore"] is (len(want) > 3)
    assert all(len(member["versions"]) == 1 for member in first["results"][0]["properties"].values())
    since = stamps[len(stamps) // 2]
    later = api.get(url, params={"since": since, "count": 100}).json()
    modified_at = {r[key]: int(r["properties"]["hs_lastmodifieddate"]["value"]) for r in got}
    assert [r[key] for r in later["results"]] == [r[key] for r in got if modified_at[r[key]] >= since]
    full = api.get(url, params={"includePropertyVersions": "true", "count": 2}).json()["results"][0]
    v3 = api.get(
        f"{sb.base_url}/crm/v3/objects/{object_type}/{full[key]}",
        params={"propertiesWithHistory": ",".join(full["properties"])},
    ).json()
    for name, member in full["properties"].items():
        assert [v["timestamp"] for v in member["versions"]] == [
            parse_time_ms(e["timestamp"]) for e in v3["propertiesWithHistory"][name]
        ]
    assert api.get(url, params={"count": 101}).status_code == 400


def test_recently_updated_contacts_page_by_time_and_vid(sb: Sandbox, api: requests.Session) -> None:
    floor = sb.account.now_ms - 30 * DAY_MS
    got, _ = walk(
        api,
        f"{sb.base_url}/contacts/v1/lists/recently_updated/contacts/recent",
        {"count": 4, "property": "lastmodifieddate"},
        "contacts",
        "has-more",
        {"vid-offset": "vidOffset", "time-offset": "timeOffset"},
    )
    want = v3_modified_since(sb, api, "contacts", floor)
    assert want
    assert sorted(c["vid"] for c in got) == sorted(want)
    keys = [(int(c["properties"]["lastmodifieddate"]["value"]), c["vid"]) for c in got]
    assert keys == sorted(keys, reverse=True)
    assert len(set(keys)) == len(keys)


def test_recent_engagements_span_every_activity_type(sb: Sandbox, api: requests.Session) -> None:
    floor = sb.account.now_ms - 30 * DAY_MS
    got, _ = walk(
        api,
        f"{sb.base_url}/engagements/v1/engagements/recent/modified",
        {"count": 3},
        "results",
        "hasMore",
        {"offset": "offset"},
    )
    want = sorted(i for name in ENGAGEMENTS for i in v3_modified_since(sb, api, name, floor))
    assert sorted(e["engagement"]["id"] for e in got) == want
    stamps = [e["engagement"]["lastUpdated"] for e in got]
    assert stamps == sorted(stamps, reverse=True)


# -- every new route is a Route: scopes, counting, limits, faults --------------------------------

CONTACTS_READ = "crm.objects.contacts.read"
LEGACY_PATHS = {
    "/deals/v1/deal/paged": "crm.objects.deals.read",
    "/deals/v1/deal/recent/modified": "crm.objects.deals.read",
    "/companies/v2/companies/paged": "crm.objects.companies.read",
    "/companies/v2/companies/recent/modified": "crm.objects.companies.read",
    "/contacts/v1/lists/all/contacts/all": "crm.objects.contacts.read",
    "/contacts/v1/lists/recently_updated/contacts/recent": "crm.objects.contacts.read",
    "/engagements/v1/engagements/paged": "crm.objects.contacts.read",
    "/engagements/v1/engagements/recent/modified": "crm.objects.contacts.read",
}


def test_legacy_routes_take_the_v3_scopes_and_are_counted(sb: Sandbox, api: requests.Session) -> None:
    sb.add_token("pat-legacy-contacts", scopes={"crm.objects.contacts.read"})
    sb.add_token("pat-legacy-deals", scopes={"crm.objects.deals.read"})
    before = api.get(f"{sb.base_url}/_sandbox/calls").json()["calls"]
    with sb.session("pat-legacy-contacts") as contacts_only, sb.session("pat-legacy-deals") as deals_only:
        for path, scope in LEGACY_PATHS.items():
            for session, has in ((contacts_only, CONTACTS_READ), (deals_only, "crm.objects.deals.read")):
                response = session.get(f"{sb.base_url}{path}")
                if scope == has:
                    assert response.status_code == 200, (path, response.text)
                else:
                    assert response.status_code == 403, path
                    assert response.json()["errors"][0]["context"]["requiredScopes"] == [scope]
    after = api.get(f"{sb.base_url}/_sandbox/calls").json()["calls"]
    for path in LEGACY_PATHS:
        assert after[f"GET {path}"] - before.get(f"GET {path}", 0) == 2
    response = api.get(f"{sb.base_url}/deals/v1/deal/nope")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")


def test_legacy_routes_are_rate_limited_and_faulted(sb: Sandbox, api: requests.Session) -> None:
    url = f"{sb.base_url}/engagements/v1/engagements/paged"
    sb.inject_fault("503", path_prefix="/engagements/v1")
    assert api.get(url).status_code == 503
    assert api.get(url).status_code == 200
    sb.set_rate_limits(enabled=True, burst=3, daily=1000)
    answers = [api.get(f"{sb.base_url}/contacts/v1/lists/all/contacts/all") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-HubSpot-RateLimit-Max"] == "3"


# -- search: top-level filters -----------------------------------------------------------------


def test_search_applies_top_level_filters_as_one_more_and_group(sb: Sandbox, api: requests.Session) -> None:
    url = f"{sb.base_url}/crm/v3/objects/contacts/search"
    ids = [int(r["id"]) for r in v3_all(sb, api, "contacts", ["email"])]
    low, high = ids[3], ids[10]

    def search(body: dict[str, Any]) -> list[int]:
        response = api.post(url, json={**body, "limit": 200})
        assert response.status_code == 200, response.text
        return [int(r["id"]) for r in response.json()["results"]]

    between = [
        {"propertyName": "hs_object_id", "operator": "GTE", "value": str(low)},
        {"propertyName": "hs_object_id", "operator": "LTE", "value": str(high)},
    ]
    assert search({"filters": between}) == ids[3:11]
    assert search({"filters": between}) == search({"filterGroups": [{"filters": between}]})
    last = {"propertyName": "hs_object_id", "operator": "EQ", "value": str(ids[-1])}
    assert search({"filters": between, "filterGroups": [{"filters": [last]}]}) == [*ids[3:11], ids[-1]]
    one = {"propertyName": "hs_object_id", "operator": "GT", "value": "0"}
    assert api.post(url, json={"filterGroups": [{"filters": [one]}] * 5, "filters": [one]}).status_code == 400
    assert api.post(url, json={"filterGroups": [{"filters": [one]}] * 4, "filters": [one]}).status_code == 200
    assert api.post(url, json={"filters": [one] * 11}).status_code == 400  # 10 filters a group
    assert api.post(url, json={"filters": "email"}).status_code == 400
    unknown = {"propertyName": "no_such_property", "operator": "EQ", "value": "x"}
    assert api.post(url, json={"filters": [unknown]}).status_code == 400


# -- inline associations: 100 per type, then paging ----------------------------------------------


def test_inline_associations_stop_at_100_with_a_link_to_the_rest() -> None:
    with Sandbox(SandboxConfig(seed=1, scale="small", token=TOKEN)) as sb, sb.session() as api:
        account = sb.account
        companies = account.record_ids("0-2", archived=False, after=None, limit=10**9)
        counts = [len(p) for p in account.associations_of("0-2", companies, "0-1")]
        big = companies[max(range(len(counts)), key=counts.__getitem__)]
        assert max(counts) > 100
        url = f"{sb.base_url}/crm/v3/objects/companies"
        one = api.get(f"{url}/{big}", params={"associations": "contacts,deals"}).json()
        inline = one["associations"]["contacts"]
        distinct = list(dict.fromkeys(int(r["id"]) for r in inline["results"]))
        assert len(distinct) == 100
        rest: list[int] = []
        link = inline["paging"]["next"]["link"]
        while link:
            page = api.get(link).json()
            rest += [r["toObjectId"] for r in page["results"]]
            link = page.get("paging", {}).get("next", {}).get("link")
        every = [to_id for to_id, _ in account.associations("0-2", big, "0-1")]
        assert distinct + rest == every
        assert inline["paging"]["next"]["after"] == str(every[100])
        if "deals" in one["associations"] and len(one["associations"]["deals"]["results"]) < 100:
            assert "paging" not in one["associations"]["deals"]
        listed = api.get(url, params={"associations": "contacts", "limit": 100, "after": str(big)}).json()
        assert listed["results"][0]["associations"]["contacts"] == inline
        small = next(c for c, n in zip(companies, counts, strict=True) if 0 < n <= 100)
        few = api.get(f"{url}/{small}", params={"associations": "contacts"}).json()["associations"]
        assert "paging" not in few["contacts"]


# -- golden ------------------------------------------------------------------------------------


def golden_requests(account: Account) -> list[GoldenRequest]:
    """A fixed list over every new route and the changed v3 behaviours."""
    a = account
    deals = a.tables["0-3"]
    mid_deal = str(int(deals.ids[len(deals) // 3]))
    contacts = a.tables["0-1"]
    mid_vid = str(int(contacts.ids[len(contacts) // 2]))
    first_company = str(int(a.tables["0-2"].ids[0]))
    recent = str(a.start_ms - 10 * DAY_MS)
    every_deal = ",".join(a.tables["0-3"].registry.live)
    between = [
        {"propertyName": "hs_object_id", "operator": "GT", "value": mid_vid},
        {"propertyName": "lifecyclestage", "operator": "HAS_PROPERTY"},
    ]
    return [
        GoldenRequest("deals-paged", "GET", "/deals/v1/deal/paged", {"limit": "250"}),
        GoldenRequest("deals-paged-props", "GET", "/deals/v1/deal/paged",
                      {"limit": "50", "offset": mid_deal, "properties": "dealname,amount,closedate,createdate",
                       "propertiesWithHistory": "dealstage,hs_lastmodifieddate", "includeAssociations": "true"}),
        GoldenRequest("deals-paged-every", "GET", "/deals/v1/deal/paged",
                      {"limit": "20", "propertiesWithHistory": every_deal}),
        GoldenRequest("deals-recent", "GET", "/deals/v1/deal/recent/modified", {"count": "100"}),
        GoldenRequest("deals-recent-versions", "GET", "/deals/v1/deal/recent/modified",
                      {"count": "5", "offset": "2", "includePropertyVersions": "true", "since": recent}),
        GoldenRequest("companies-paged", "GET", "/companies/v2/companies/paged",
                      {"limit": "100", "properties": "name,domain,createdate", "propertiesWithHistory": "industry"}),
        GoldenRequest("companies-recent", "GET", "/companies/v2/companies/recent/modified", {"count": "50"}),
        GoldenRequest("contacts-all", "GET", "/contacts/v1/lists/all/contacts/all", {"count": "100"}),
        GoldenRequest("contacts-all-history", "GET", "/contacts/v1/lists/all/contacts/all",
                      {"count": "30", "vidOffset": mid_vid, "property": "email,lifecyclestage,createdate",
                       "propertyMode": "value_and_history"}),
        GoldenRequest("contacts-recent", "GET", "/contacts/v1/lists/recently_updated/contacts/recent",
                      {"count": "100", "property": "email,lastmodifieddate"}),
        GoldenRequest("engagements-paged", "GET", "/engagements/v1/engagements/paged", {"limit": "250"}),
        GoldenRequest("engagements-recent", "GET", "/engagements/v1/engagements/recent/modified",
                      {"count": "100"}),
        GoldenRequest("legacy-too-many", "GET", "/deals/v1/deal/paged", {"limit": "251"}),
        GoldenRequest("search-top-filters", "POST", "/crm/v3/objects/contacts/search",
                      body={"filters": between, "limit": 100, "properties": ["email", "lifecyclestage"]}),
        GoldenRequest("search-top-and-groups", "POST", "/crm/v3/objects/contacts/search",
                      body={"filters": between[:1], "limit": 100,
                            "filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "LT",
                                                           "value": "1010"}]}]}),
        GoldenRequest("inline-assoc-read", "GET", f"/crm/v3/objects/companies/{first_company}",
                      {"associations": "contacts,deals,tickets"}),
        GoldenRequest("inline-assoc-list", "GET", "/crm/v3/objects/companies",
                      {"limit": "100", "associations": "contacts,deals"}),
    ]  # fmt: skip


def test_legacy_golden_list_covers_every_legacy_route() -> None:
    reached = {route.handler for route in golden.routes_reached(golden_requests)}
    legacy = {route.handler for route in ROUTES if route.handler.__module__ == legacy_records.__name__}
    assert len(legacy) == 8
    assert legacy <= reached
    assert {objects.search_objects, objects.read_object, objects.list_objects} <= reached


def digests(config: SandboxConfig) -> dict[str, str]:
    return golden.digests(config, golden_requests)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(GOLDEN_CONFIGS))
def test_legacy_golden_responses_are_byte_identical(name: str) -> None:
    golden.assert_unchanged(FIXTURE, name, digests(GOLDEN_CONFIGS[name]))


if __name__ == "__main__" and "--record" in sys.argv:
    golden.record(FIXTURE, GOLDEN_CONFIGS, golden_requests)
