"""The sandbox over real HTTP: routing, paging, page maxima, 414, auth, rate limits, faults, errors,
reproducible bytes and the control routes."""

from __future__ import annotations

import datetime as dt
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from hubspot_pipeline_tests.sandbox_session import clean_session
from hubspot_sandbox import Sandbox, SandboxConfig
from hubspot_sandbox.__main__ import READY_PREFIX

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
CONTACTS = "/crm/v3/objects/contacts"
SEARCH = "/crm/v3/objects/contacts/search"
RATE_HEADERS = (
    "X-HubSpot-RateLimit-Max",
    "X-HubSpot-RateLimit-Remaining",
    "X-HubSpot-RateLimit-Interval-Milliseconds",
    "X-HubSpot-RateLimit-Daily",
    "X-HubSpot-RateLimit-Daily-Remaining",
)
CONFIG = SandboxConfig(seed=3, scale="tiny", slow_seconds=0.3)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(CONFIG) as sandbox:
        sandbox.advance(2)  # so archived, merged and changed records exist
        yield sandbox


@pytest.fixture
def api(sb: Sandbox) -> Iterator[requests.Session]:
    """A session on a clean sandbox state: no limits, no pending faults."""
    with clean_session(sb) as session:
        yield session


def live_ids(sb: Sandbox, type_id: str = "0-1", archived: bool = False) -> list[int]:
    return sb.account.record_ids(type_id, archived=archived, after=None, limit=10**9)


def ids_of(body: dict[str, Any]) -> list[int]:
    return [int(r["id"]) for r in body["results"]]


def assert_validation_error(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == "error"
    assert body["category"] == "VALIDATION_ERROR"
    assert body["correlationId"] == response.headers["X-HubSpot-Correlation-Id"]
    return body


# -- routing ------------------------------------------------------------------------------------


def test_object_type_accepted_as_name_singular_type_id_any_case_and_trailing_slash(
    sb: Sandbox, api: requests.Session
) -> None:
    expected = live_ids(sb)[:5]
    for ref in ("contacts", "contact", "0-1", "CONTACTS", "contacts/"):
        body = api.get(f"{sb.base_url}/crm/v3/objects/{ref}", params={"limit": 5}).json()
        assert ids_of(body) == expected, ref


def test_custom_object_by_type_id_and_fully_qualified_name(sb: Sandbox, api: requests.Session) -> None:
    custom = next(t for t in sb.account.object_types() if t.custom)
    expected = live_ids(sb, custom.type_id)[:3]
    assert expected
    for ref in (custom.type_id, custom.fully_qualified_name, custom.name):
        assert ids_of(api.get(f"{sb.base_url}/crm/v3/objects/{ref}", params={"limit": 3}).json()) == expected
    by_fqn = api.get(f"{sb.base_url}/crm-object-schemas/v3/schemas/{custom.fully_qualified_name}").json()
    assert by_fqn["objectTypeId"] == custom.type_id
    assert api.get(f"{sb.base_url}/crm/v3/schemas/{custom.type_id}").json() == by_fqn


def test_both_spellings_of_schemas_and_association_labels(sb: Sandbox, api: requests.Session) -> None:
    schemas = api.get(f"{sb.base_url}/crm-object-schemas/v3/schemas").json()
    assert schemas == api.get(f"{sb.base_url}/crm/v3/schemas/").json()
    assert {s["objectTypeId"] for s in schemas["results"]} == {
        t.type_id for t in sb.account.object_types() if t.custom
    }
    v4 = api.get(f"{sb.base_url}/crm/v4/associations/contacts/companies/labels").json()
    assert v4 == api.get(f"{sb.base_url}/crm/associations/v4/contact/company/labels").json()
    assert v4["results"] == sb.account.association_labels("0-1", "0-2")
    assert {r["typeId"] for r in v4["results"]} >= {1, 279}


def test_unknown_route_is_an_html_404_and_unknown_type_a_400(sb: Sandbox, api: requests.Session) -> None:
    response = api.get(f"{sb.base_url}/crm/v3/no-such-thing")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.lstrip().startswith("<html")
    response = api.get(f"{sb.base_url}/crm/v3/objects/unicorns")
    assert_validation_error(response)
    assert response.json()["message"] == "Unable to infer object type from: unicorns"


# -- objects: list, read, batch read --------------------------------------------------------------


def test_list_pages_walk_every_live_id_with_next_id_cursors_and_links(
    sb: Sandbox, api: requests.Session
) -> None:
    seen: list[int] = []
    url, params = f"{sb.base_url}{CONTACTS}", {"limit": 7}
    pages = 0
    while True:
        body = api.get(url, params=params).json()
        pages += 1
        seen += ids_of(body)
        if "paging" not in body:
            break
        nxt = body["paging"]["next"]
        assert int(nxt["after"]) == live_ids(sb)[len(seen)], "after is the id of the next record"
        assert nxt["link"].startswith(f"{sb.base_url}{CONTACTS}?")
        assert api.get(nxt["link"]).json() == api.get(url, params={**params, "after": nxt["after"]}).json()
        params = {"limit": 7, "after": nxt["after"]}
    assert seen == live_ids(sb)
    assert pages == -(-len(seen) // 7)
    default_page = api.get(url).json()
    assert len(default_page["results"]) == 10, "limit defaults to 10"


def test_archived_true_lists_only_archived_records(sb: Sandbox, api: requests.Session) -> None:
    archived = live_ids(sb, archived=True)
    assert archived, "two days of changes archive some contacts"
    body = api.get(f"{sb.base_url}{CONTACTS}", params={"archived": "true", "limit": 100}).json()
    assert ids_of(body) == archived[:100]
    assert all(r["archived"] is True and r["archivedAt"] for r in body["results"])


def test_read_one_by_id_and_by_email_and_the_404_body(sb: Sandbox, api: requests.Session) -> None:
    record_id = live_ids(sb)[3]
    truth = sb.account.record("0-1", record_id, ["email", "firstname"])
    body = api.get(f"{sb.base_url}{CONTACTS}/{record_id}", params={"properties": "email,firstname"}).json()
    assert body["id"] == str(record_id)
    assert body["properties"]["email"] == truth.properties["email"]
    assert body["properties"]["hs_object_id"] == str(record_id), "the id property is always returned"
    email = next(
        v.properties["email"]
        for i in live_ids(sb)
        if (v := sb.account.record("0-1", i, ["email"])).properties["email"]
        and "@" in v.properties["email"]
        and v.properties["email"].isascii()
    )
    by_email = api.get(f"{sb.base_url}{CONTACTS}/{email}", params={"idProperty": "email"}).json()
    assert by_email["properties"]["email"] == email
    missing = api.get(f"{sb.base_url}{CONTACTS}/1")
    assert missing.status_code == 404
    body = missing.json()
    assert body["message"] == "Object not found.  objectId are usually numeric."
    assert (body["category"], body["context"]) == ("OBJECT_NOT_FOUND", {"id": ["1"]})
    assert body["correlationId"] == missing.headers["X-HubSpot-Correlation-Id"]


def test_batch_read_is_207_with_object_not_found_for_missing_ids(sb: Sandbox, api: requests.Session) -> None:
    wanted = live_ids(sb)[:3]
    body = {"inputs": [{"id": str(i)} for i in [*wanted, 2, 3]], "properties": ["email"]}
    response = api.post(f"{sb.base_url}{CONTACTS}/batch/read", json=body)
    assert response.status_code == 207
    answer = response.json()
    assert sorted(ids_of(answer)) == wanted
    assert answer["numErrors"] == 1
    assert answer["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert answer["errors"][0]["context"] == {"ids": ["2", "3"]}
    assert all("associations" not in r for r in answer["results"])
    complete = api.post(f"{sb.base_url}{CONTACTS}/batch/read", json={"inputs": [{"id": str(wanted[0])}]})
    assert complete.status_code == 200
    assert complete.json()["status"] == "COMPLETE"


def test_malformed_json_is_a_400_naming_line_and_column(sb: Sandbox, api: requests.Session) -> None:
    response = api.post(
        f"{sb.base_url}{SEARCH}", data=b'{"limit": 5,,}', headers={"Content-Type": "application/json"}
    )
    body = assert_validation_error(response)
    assert body["message"].startswith("Invalid input JSON on line 1, column 13")


def test_association_pages_of_500_and_per_input_batch_paging() -> None:
    with Sandbox(SandboxConfig(seed=3, scale="small")) as sb, sb.session() as api:
        companies = sb.account.record_ids("0-2", archived=False, after=None, limit=50)
        hub = next(c for c in companies if len(sb.account.associations("0-2", c, "0-1")) > 500)
        other = next(c for c in companies if 0 < len(sb.account.associations("0-2", c, "0-1")) < 500)
        truth = [to_id for to_id, _ in sb.account.associations("0-2", hub, "0-1")]
        url = f"{sb.base_url}/crm/v4/objects/companies/{hub}/associations/contacts"
        first = api.get(url).json()
        assert len(first["results"]) == 500, "500 is the default page"
        assert all(isinstance(r["toObjectId"], int) for r in first["results"]), "toObjectId is a JSON number"
        second = api.get(url, params={"after": first["paging"]["next"]["after"]}).json()
        assert "paging" not in second
        assert [r["toObjectId"] for r in first["results"] + second["results"]] == truth
        batch_url = f"{sb.base_url}/crm/v4/associations/companies/contacts/batch/read"
        batch = api.post(batch_url, json={"inputs": [{"id": str(hub)}, {"id": str(other)}]}).json()
        by_id = {r["from"]["id"]: r for r in batch["results"]}
        assert len(by_id[str(hub)]["to"]) == 500
        assert "paging" not in by_id[str(other)], "paging only when more remain"
        after = by_id[str(hub)]["paging"]["next"]["after"]
        rest = api.post(batch_url, json={"inputs": [{"id": str(hub), "after": after}]}).json()["results"][0]
        assert [t["toObjectId"] for t in by_id[str(hub)]["to"] + rest["to"]] == truth
        unknown = api.post(batch_url, json={"inputs": [{"id": "12"}]})
        assert unknown.status_code == 207
        assert unknown.json()["errors"][0]["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"


def test_definitions_configurations_event_definitions_and_account(sb: Sandbox, api: requests.Session) -> None:
    base = sb.base_url
    schemas = [t for t in sb.account.object_types() if t.custom]
    batch = api.post(
        f"{base}/crm/v3/schemas/batch/read", json={"inputs": [schemas[0].fully_qualified_name, "2-999"]}
    )
    assert batch.status_code == 207
    assert [r["objectTypeId"] for r in batch.json()["results"]] == [schemas[0].type_id]
    pair = api.get(f"{base}/crm/v4/associations/definitions/configurations/contacts/companies").json()[
        "results"
    ]
    assert {r["typeId"] for r in pair} == {r["typeId"] for r in sb.account.association_labels("0-1", "0-2")}
    everything = api.get(f"{base}/crm/associations/v4/definitions/configurations/all").json()["results"]
    assert len(everything) > len(pair)
    definitions = sb.account.event_definitions()
    page = api.get(f"{base}/events/v3/event-definitions", params={"limit": 1}).json()
    assert page["total"] == len(definitions)
    assert page["results"][0]["name"] == definitions[0]["name"]
    assert page["results"][0]["properties"] == [], "properties only with includeProperties=true"
    assert page["paging"]["next"]["after"] == "1"
    one = api.get(f"{base}/events/v3/event-definitions/{definitions[0]['name']}").json()
    assert one["properties"] == definitions[0]["properties"]
    assert api.get(f"{base}/account-info/v3/details").json()["portalId"] == sb.account.portal_id
    usage = api.get(f"{base}/account-info/v3/api-usage/daily/private-apps").json()["results"][0]
    assert usage["usageLimit"] == 250_000
    assert usage["currentUsage"] >= 6


# -- page maxima ---------------------------------------------------------------------------------


def _maximum_cases(sb: Sandbox) -> list[tuple[str, str, str, Any, Any]]:
    """(name, method, path, over-the-limit request, at-the-limit request)."""
    contact = live_ids(sb)[0]
    list_id = sb.account.lists()[0]["listId"]

    def ids(n: int) -> list[dict[str, str]]:
        return [{"id": str(contact)}] * n

    return [
        ("list", "GET", CONTACTS, {"limit": 101}, {"limit": 100}),
        ("history", "GET", CONTACTS, {"limit": 51, "propertiesWithHistory": "email"},
         {"limit": 50, "propertiesWithHistory": "email"}),
        ("batch", "POST", f"{CONTACTS}/batch/read", {"inputs": ids(101)}, {"inputs": ids(100)}),
        ("search", "POST", SEARCH, {"limit": 201}, {"limit": 200}),
        ("memberships", "GET", f"/crm/v3/lists/{list_id}/memberships", {"limit": 251}, {"limit": 250}),
        ("lists", "POST", "/crm/v3/lists/search", {"count": 501}, {"count": 500}),
        ("record memberships", "POST", "/crm/v3/lists/records/memberships/batch/read",
         {"inputs": [{"objectTypeId": "0-1", "recordId": str(contact)}] * 101},
         {"inputs": [{"objectTypeId": "0-1", "recordId": str(contact)}] * 100}),
        ("association batch", "POST", "/crm/v4/associations/contacts/companies/batch/read",
         {"inputs": ids(1001)}, {"inputs": ids(1000)}),
        ("association page", "GET", f"/crm/v4/objects/contacts/{contact}/associations/companies",
         {"limit": 501}, {"limit": 500}),
    ]  # fmt: skip


def test_events_by_object_type_page_across_records_and_need_the_type(
    sb: Sandbox, api: requests.Session
) -> None:
    """`objectType` without `objectId` answers every record's occurrences of the window, oldest first,
    in pages of `limit` with offset cursors; `sort=-occurredAt` reverses; no objectType is a 400."""
    url = f"{sb.base_url}/events/v3/events"
    window = {
        "objectType": "contacts",
        "occurredAfter": "2000-01-01T00:00:00Z",
        "occurredBefore": sb.account.now.isoformat(),
    }
    seen: list[dict] = []
    params: dict[str, Any] = {**window, "limit": 100}
    while True:
        body = api.get(url, params=params).json()
        assert len(body["results"]) <= 100
        seen.extend(body["results"])
        after = body.get("paging", {}).get("next", {}).get("after")
        if not after:
            break
        params["after"] = after
    truth = sb.account.type_events("0-1", None, dt.datetime(2000, 1, 1, tzinfo=dt.UTC), sb.account.now)
    assert len(seen) == len(truth) > 100, "more than one page"
    assert [e["occurredAt"] for e in seen] == sorted(e["occurredAt"] for e in seen)
    one = next(e for e in seen if e["objectId"] == seen[-1]["objectId"])
    own = api.get(url, params={**window, "objectId": one["objectId"], "limit": 100}).json()["results"]
    assert [e for e in seen if e["objectId"] == one["objectId"]] == own, (
        "the same occurrences as the record's read"
    )
    newest = api.get(url, params={**window, "sort": "-occurredAt", "limit": 1}).json()["results"]
    assert newest == [seen[-1]]
    body = assert_validation_error(api.get(url, params={"occurredAfter": window["occurredAfter"]}))
    assert "objectType" in body["message"]
    assert_validation_error(api.get(url, params={"objectType": "contacts", "objectId": "abc"}))


def test_record_memberships_name_every_list_of_each_record_and_207_the_missing(
    sb: Sandbox, api: requests.Session
) -> None:
    """The batch read of record memberships answers, per record, the lists it is in now with when it
    joined them (as the list's own membership pages give it); unknown or archived ids are a 207 error."""
    lists = [x for x in sb.account.lists() if x["objectTypeId"] == "0-1"]
    truth: dict[int, dict[str, str]] = {}
    for item in lists:
        for record_id, added in sb.account.list_memberships(int(item["listId"])):
            truth.setdefault(record_id, {})[item["listId"]] = added
    asked = sorted(truth)[:30] + [i for i in live_ids(sb) if i not in truth][:5]
    gone = live_ids(sb, archived=True)[:1]
    inputs = [{"objectTypeId": "contacts", "recordId": str(i)} for i in [*asked, *gone, 999_999_999]]
    r = api.post(f"{sb.base_url}/crm/v3/lists/records/memberships/batch/read", json={"inputs": inputs})
    assert r.status_code == 207, r.text
    body = r.json()
    got = {
        int(x["recordId"]): {m["listId"]: m["lastAddedTimestamp"] for m in x["recordListMemberships"]}
        for x in body["results"]
    }
    assert got == {i: truth.get(i, {}) for i in asked}
    assert {x["objectTypeId"] for x in body["results"]} == {"0-1"}
    (error,) = body["errors"]
    assert error["category"] == "OBJECT_NOT_FOUND"
    assert error["context"]["ids"] == [*map(str, gone), "999999999"]
    r = api.post(
        f"{sb.base_url}/crm/v3/lists/records/memberships/batch/read", json={"inputs": [{"recordId": "1"}]}
    )
    assert "objectTypeId" in assert_validation_error(r)["message"]


def test_each_page_maximum_is_enforced_with_a_400(sb: Sandbox, api: requests.Session) -> None:
    for name, method, path, over, at in _maximum_cases(sb):
        url = f"{sb.base_url}{path}"
        assert_validation_error(api.request(method, url, **{"params" if method == "GET" else "json": over}))
        assert api.request(method, url, **{"params" if method == "GET" else "json": at}).status_code in (
            200,
            207,
        ), name


def test_request_targets_over_16_kb_get_414(sb: Sandbox, api: requests.Session) -> None:
    names = ",".join(f"custom_property_{i:05d}" for i in range(1000))
    prefix = f"{CONTACTS}?properties="
    limit = 16 * 1024  # bytes of the request target

    def target(size: int) -> str:
        return prefix + names[: size - len(prefix)]

    too_long = api.get(sb.base_url + target(limit + 1))
    assert too_long.status_code == 414
    assert too_long.headers["Content-Type"].startswith("text/html")
    assert api.get(sb.base_url + target(limit)).status_code == 200


# -- search --------------------------------------------------------------------------------------


def test_search_total_paging_default_properties_and_no_archived(sb: Sandbox, api: requests.Session) -> None:
    body = {"sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}], "limit": 20, "after": "20"}
    answer = api.post(f"{sb.base_url}{SEARCH}", json=body).json()
    live = live_ids(sb)
    assert answer["total"] == len(live)
    assert ids_of(answer) == live[20:40]
    assert answer["paging"]["next"]["after"] == "40"
    assert {"email", "firstname", "lastname", "hs_object_id"} <= set(answer["results"][0]["properties"])
    archived = set(live_ids(sb, archived=True))
    assert not archived & set(ids_of(answer))
    last = api.post(f"{sb.base_url}{SEARCH}", json={**body, "after": str(len(live) - 5)}).json()
    assert len(last["results"]) == 5
    assert "paging" not in last


def test_search_limits_give_400s(sb: Sandbox, api: requests.Session) -> None:
    url = f"{sb.base_url}{SEARCH}"
    assert_validation_error(api.post(url, json={"after": "9900", "limit": 101}))
    assert api.post(url, json={"after": "9900", "limit": 100}).status_code == 200

    def filters(n: int) -> list[dict[str, str]]:
        return [{"propertyName": "hs_object_id", "operator": "GT", "value": str(i)} for i in range(n)]

    assert_validation_error(api.post(url, json={"filterGroups": [{"filters": filters(1)}] * 6}))
    assert api.post(url, json={"filterGroups": [{"filters": filters(1)}] * 5}).status_code == 200
    assert_validation_error(api.post(url, json={"filterGroups": [{"filters": filters(11)}]}))
    assert api.post(url, json={"filterGroups": [{"filters": filters(10)}]}).status_code == 200
    assert_validation_error(api.post(url, json={"filterGroups": [{"filters": filters(9)}] * 3}))  # 27 > 25
    assert api.post(url, json={"filterGroups": [{"filters": filters(5)}] * 5}).status_code == 200
    long_query = {"query": "x" * 2990}
    assert_validation_error(api.post(url, json=long_query))
    assert api.post(url, json={"query": "x" * 2900}).status_code == 200


# -- auth ----------------------------------------------------------------------------------------


def test_missing_unknown_or_non_bearer_tokens_get_401(sb: Sandbox, api: requests.Session) -> None:
    for headers in ({}, {"Authorization": "Bearer pat-nope"}, {"Authorization": f"Basic {sb.config.token}"}):
        response = requests.get(f"{sb.base_url}{CONTACTS}", headers=headers)
        assert response.status_code == 401
        assert response.headers["X-HubSpot-Auth-Failure"] == "401 Unauthorized"
        body = response.json()
        assert body["category"] == "INVALID_AUTHENTICATION"
        assert body["message"].startswith("Authentication credentials not found.")
        assert UUID.match(body["correlationId"])


def test_scoped_token_gets_403_naming_the_scope(sb: Sandbox, api: requests.Session) -> None:
    sb.add_token("pat-contacts", scopes={"crm.objects.contacts.read", "crm.lists.read"})
    with sb.session("pat-contacts") as limited:
        assert limited.get(f"{sb.base_url}{CONTACTS}").status_code == 200
        assert limited.post(f"{sb.base_url}/crm/v3/lists/search", json={}).status_code == 200
        for path, scope in (
            ("/crm/v3/objects/companies", "crm.objects.companies.read"),
            ("/crm/v3/owners", "crm.objects.owners.read"),
            ("/settings/v3/users/teams", "settings.users.teams.read"),
        ):
            response = limited.get(f"{sb.base_url}{path}")
            assert response.status_code == 403
            body = response.json()
            assert body["category"] == "MISSING_SCOPES"
            assert body["errors"][0]["context"]["requiredScopes"] == [scope]


def test_expired_token_gets_401_expired_authentication(sb: Sandbox, api: requests.Session) -> None:
    expired_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=75)
    sb.add_token("pat-old", expires_at=expired_at)
    response = requests.get(f"{sb.base_url}{CONTACTS}", headers={"Authorization": "Bearer pat-old"})
    assert response.status_code == 401
    body = response.json()
    assert body["category"] == "EXPIRED_AUTHENTICATION"
    seconds = int(
        re.fullmatch(
            r"The OAuth token used to make this call expired (\d+) second\(s\) ago\.", body["message"]
        )[1]
    )
    assert 75 <= seconds <= 90
    sb.add_token("pat-fresh", expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert requests.get(f"{sb.base_url}{CONTACTS}", headers={"Authorization": "Bearer pat-fresh"}).ok


# -- rate limits ---------------------------------------------------------------------------------


def test_burst_bucket_headers_and_429_per_token(sb: Sandbox, api: requests.Session) -> None:
    sb.set_rate_limits(enabled=True, burst=5, daily=1000)
    url = f"{sb.base_url}/crm/v3/owners"
    remaining, daily = [], []
    for _ in range(5):
        response = api.get(url)
        assert response.status_code == 200
        assert response.headers["X-HubSpot-RateLimit-Max"] == "5"
        assert response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        assert response.headers["X-HubSpot-RateLimit-Daily"] == "1000"
        remaining.append(int(response.headers["X-HubSpot-RateLimit-Remaining"]))
        daily.append(int(response.headers["X-HubSpot-RateLimit-Daily-Remaining"]))
    assert remaining == [4, 3, 2, 1, 0]
    assert daily == [daily[0] - i for i in range(5)]
    calls_before = sb.total_calls()
    limited = api.get(url)
    assert limited.status_code == 429
    body = limited.json()
    assert (body["policyName"], body["errorType"]) == ("TEN_SECONDLY_ROLLING", "RATE_LIMIT")
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert "Retry-After" not in limited.headers
    assert sb.total_calls() == calls_before + 1
    assert api.get(f"{sb.base_url}/account-info/v3/api-usage/daily/private-apps").status_code == 429
    sb.add_token("pat-other-app")
    with sb.session("pat-other-app") as other:
        answer = other.get(url)
        assert answer.status_code == 200, "the burst bucket is per token"
        assert answer.headers["X-HubSpot-RateLimit-Remaining"] == "4"
        assert int(answer.headers["X-HubSpot-RateLimit-Daily-Remaining"]) == daily[-1] - 1, (
            "429s consume nothing"
        )


def test_retry_after_is_sent_only_when_configured(sb: Sandbox, api: requests.Session) -> None:
    sb.set_rate_limits(enabled=True, burst=1, retry_after=7)
    url = f"{sb.base_url}/crm/v3/owners"
    assert api.get(url).status_code == 200
    limited = api.get(url)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"


def test_search_has_its_own_per_second_bucket_and_no_rate_headers(sb: Sandbox, api: requests.Session) -> None:
    sb.set_rate_limits(enabled=True, burst=2, search_per_second=5)
    statuses = []
    for _ in range(6):
        response = api.post(f"{sb.base_url}{SEARCH}", json={"limit": 1})
        statuses.append(response.status_code)
        assert not any(h in response.headers for h in RATE_HEADERS)
    assert statuses[:5] == [200] * 5, "search is exempt from the (tiny) burst bucket"
    assert statuses[5] == 429
    assert response.json()["message"] == "You have reached your secondly limit."
    time.sleep(1.05)
    assert api.post(f"{sb.base_url}{SEARCH}", json={"limit": 1}).status_code == 200


def test_daily_bucket_and_its_reset_at_the_next_sandbox_day() -> None:
    with Sandbox(SandboxConfig(seed=3, scale="tiny", rate_limits=True, daily=3)) as sb, sb.session() as api:
        assert [api.get(f"{sb.base_url}/crm/v3/owners").status_code for _ in range(3)] == [200] * 3
        limited = api.get(f"{sb.base_url}/crm/v3/owners")
        assert limited.status_code == 429
        assert limited.json()["policyName"] == "DAILY"
        assert limited.json()["message"] == "You have reached your daily limit."
        assert limited.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
        api.post(f"{sb.base_url}/_sandbox/advance", json={"days": 1})
        assert api.get(f"{sb.base_url}/crm/v3/owners").status_code == 200


# -- faults --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "status", "json_body"), [("500", 500, True), ("502", 502, False),
                                                           ("503", 503, True), ("504", 504, False)])  # fmt: skip
def test_server_error_faults(
    sb: Sandbox, api: requests.Session, kind: str, status: int, json_body: bool
) -> None:
    sb.inject_fault(kind, path_prefix="/crm/v3/owners")
    assert api.get(f"{sb.base_url}{CONTACTS}").status_code == 200, "the prefix spares other paths"
    failed = api.get(f"{sb.base_url}/crm/v3/owners")
    assert failed.status_code == status
    if json_body:
        assert failed.json()["correlationId"] == failed.headers["X-HubSpot-Correlation-Id"]
    else:
        assert failed.headers["Content-Type"].startswith("text/html")
    assert api.get(f"{sb.base_url}/crm/v3/owners").status_code == 200, "count=1: the next one succeeds"


def test_reset_and_truncate_faults_break_the_connection(sb: Sandbox, api: requests.Session) -> None:
    sb.inject_fault("reset")
    with pytest.raises(requests.ConnectionError):
        api.get(f"{sb.base_url}{CONTACTS}")
    sb.inject_fault("truncate", count=2)
    for _ in range(2):
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            api.get(f"{sb.base_url}{CONTACTS}", params={"limit": 50})
    assert api.get(f"{sb.base_url}{CONTACTS}").status_code == 200


def test_slow_fault_holds_the_answer(sb: Sandbox, api: requests.Session) -> None:
    sb.inject_fault("slow")
    started = time.monotonic()
    assert api.get(f"{sb.base_url}{CONTACTS}").status_code == 200
    assert time.monotonic() - started >= CONFIG.slow_seconds


def test_injected_429_kinds(sb: Sandbox, api: requests.Session) -> None:
    expected = {"429": "TEN_SECONDLY_ROLLING", "429_daily": "DAILY", "429_search": "SECONDLY"}
    for kind, policy in expected.items():
        sb.inject_fault(kind)
        response = api.get(f"{sb.base_url}/crm/v3/owners")
        assert response.status_code == 429
        assert response.json()["policyName"] == policy


def test_random_faults_are_deterministic_from_the_seed(sb: Sandbox) -> None:
    def statuses() -> list[int | str]:
        sb.set_failure_rate(0.4, kinds={"500", "503", "reset"})
        out: list[int | str] = []
        with sb.session() as session:
            for _ in range(30):
                try:
                    out.append(session.get(f"{sb.base_url}/crm/v3/owners").status_code)
                except requests.ConnectionError:
                    out.append("reset")
        sb.set_failure_rate(0.0)
        return out

    first = statuses()
    assert first == statuses()
    assert {200, "reset"} <= set(first)
    assert 5 <= sum(s != 200 for s in first) <= 20


def test_every_response_has_a_fresh_correlation_id(sb: Sandbox, api: requests.Session) -> None:
    ids = [api.get(f"{sb.base_url}{CONTACTS}/1").headers["X-HubSpot-Correlation-Id"] for _ in range(3)]
    ids.append(api.get(f"{sb.base_url}{CONTACTS}").headers["X-HubSpot-Correlation-Id"])
    assert all(UUID.match(i) for i in ids)
    assert len(set(ids)) == 4


# -- reproducibility and control ------------------------------------------------------------------


def _transcript(sb: Sandbox) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    """Answers to a fixed request script, with the volatile headers left out."""
    contact = live_ids(sb)[5]
    list_id = sb.account.lists()[0]["listId"]
    search = {
        "filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "GT", "value": "0"}]}]
    }
    script: list[tuple[str, str, Any]] = [
        ("GET", f"{CONTACTS}?limit=20&properties=email,firstname&propertiesWithHistory=email&associations=companies", None),
        ("GET", f"{CONTACTS}/{contact}?associations=deals", None),
        ("GET", f"{CONTACTS}?archived=true", None),
        ("POST", f"{CONTACTS}/batch/read", {"inputs": [{"id": str(contact)}, {"id": "7"}], "properties": ["email"]}),
        ("POST", SEARCH, {**search, "limit": 15}),
        ("GET", "/crm/v3/properties/deals", None),
        ("GET", "/crm-object-schemas/v3/schemas", None),
        ("GET", f"/crm/v4/objects/contacts/{contact}/associations/companies", None),
        ("POST", "/crm/v4/associations/companies/contacts/batch/read", {"inputs": [{"id": "1"}]}),
        ("GET", "/crm/v3/pipelines/deals", None),
        ("GET", "/crm/v3/owners?limit=3", None),
        ("POST", "/crm/v3/lists/search", {"count": 5}),
        ("GET", f"/crm/v3/lists/{list_id}/memberships/join-order", None),
        ("GET", f"/events/v3/events?objectType=contact&objectId={contact}", None),
        ("GET", "/settings/v3/users", None),
        ("GET", "/account-info/v3/api-usage/daily/private-apps", None),
        ("GET", f"{CONTACTS}/2", None),
        ("GET", "/nope", None),
    ]  # fmt: skip
    volatile = {"x-hubspot-correlation-id", *(h.lower() for h in RATE_HEADERS)}
    out = []
    with sb.session() as session:
        session.headers["Host"] = "api.hubapi.com"  # links follow the Host header, like any virtual host
        for method, path, body in script:
            response = session.request(method, f"{sb.base_url}{path}", json=body)
            body_bytes = response.content
            if b'"correlationId"' in body_bytes:
                body_bytes = body_bytes.replace(
                    response.headers["X-HubSpot-Correlation-Id"].encode(), b"<id>"
                )
            headers = [(k, v) for k, v in response.headers.items() if k.lower() not in volatile]
            out.append((response.status_code, headers, body_bytes))
    return out


def test_two_sandboxes_with_equal_inputs_answer_byte_identically() -> None:
    config = SandboxConfig(seed=11, scale="tiny", rate_limits=True)
    with Sandbox(config) as one, Sandbox(config) as two:
        assert _transcript(one) == _transcript(two)
        one.advance(1)
        two.advance(1)
        after_a_day = _transcript(one)
        assert after_a_day == _transcript(two)
    assert b"api.hubapi.com" in after_a_day[0][2], "paging links point at the host the client used"


def test_advance_and_calls_over_the_control_routes(sb: Sandbox, api: requests.Session) -> None:
    before = sb.account.now
    days = sb.account.days_advanced
    assert requests.post(f"{sb.base_url}/_sandbox/advance", json={"days": 1}).status_code == 401
    answer = api.post(f"{sb.base_url}/_sandbox/advance", json={"days": 1, "bulk_update": 0}).json()
    assert sb.account.days_advanced == days + 1
    assert sb.account.now == before + dt.timedelta(days=1)
    assert answer["daysAdvanced"] == days + 1
    assert answer["now"] == sb.account.now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    sb.reset_calls()
    api.get(f"{sb.base_url}{CONTACTS}")
    api.get(f"{sb.base_url}{CONTACTS}/1")
    counted = api.get(f"{sb.base_url}/_sandbox/calls").json()
    assert counted["calls"] == {
        "GET /crm/v3/objects/{objectType}": 1,
        "GET /crm/v3/objects/{objectType}/{objectId}": 1,
    }
    assert counted["total"] == 2 == sb.total_calls()


def test_cli_serves_until_sigterm() -> None:
    command = [sys.executable, "-m", "hubspot_sandbox", "serve", "--port", "0", "--scale", "tiny",
               "--seed", "5", "--token", "pat-cli", "--advance-days", "1"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith(READY_PREFIX)
        base_url = line[len(READY_PREFIX) :].strip()
        answer = requests.get(f"{base_url}/_sandbox/calls", headers={"Authorization": "Bearer pat-cli"})
        assert answer.json()["total"] == 0
        advanced = requests.post(f"{base_url}/_sandbox/advance", headers={"Authorization": "Bearer pat-cli"})
        assert advanced.json()["daysAdvanced"] == 2
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
