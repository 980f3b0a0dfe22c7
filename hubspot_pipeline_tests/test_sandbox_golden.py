"""Golden bytes: a fixed list of requests over every endpoint family must keep answering the same bytes
(the legacy families: `test_sandbox_legacy_definitions`, `test_sandbox_legacy_records`).

The sha256 of each answer (status, content type, body with the correlation id masked) was recorded
before the sandbox's speed work and is kept in `data/sandbox_golden.json`; any change to what a
client observes for a given (seed, scale, start date, day, request) fails here. To re-record after
an intended change of the account or the wire format:

    .venv/bin/python -m hubspot_pipeline_tests.test_sandbox_golden --record
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from hubspot_sandbox import Sandbox, SandboxConfig
from hubspot_sandbox.model import Account
from hubspot_sandbox.routes import JOURNAL_ROUTE_KEYS, LEGACY_ROUTE_KEYS, ROUTES, Route, Router, split_path

FIXTURE = Path(__file__).parent / "data" / "sandbox_golden.json"
# Paging links carry the Host header; a fixed one keeps them independent of the port.
HOST = "sandbox.golden:8080"
CORRELATION = re.compile(rb'"correlationId":"[0-9a-f-]{36}"')
CONFIGS: dict[str, SandboxConfig] = {
    "tiny": SandboxConfig(seed=1, scale="tiny"),
    "tiny-wide": SandboxConfig(seed=2, scale="tiny", wide=True),
    "small": SandboxConfig(seed=1, scale="small"),
}
DAYS = (0, 2)  # the account as built, then after advance(2)


@dataclass(frozen=True)
class GoldenRequest:
    """One request of the golden list; `search_lag` is set on the sandbox just for it."""

    name: str
    method: str
    path: str
    params: dict[str, str] | None = None
    body: Any = None
    search_lag: float = 0.0


def _ids(account: Account, type_id: str, start: int, stop: int, step: int = 1) -> list[str]:
    """Record ids by position in the type's id column (archived and live alike, so errors show too)."""
    return [str(i) for i in account.tables[type_id].ids[start:stop:step].tolist()]


def _all_props(account: Account, type_id: str) -> list[str]:
    return list(account.tables[type_id].registry.live)


def golden_requests(account: Account) -> list[GoldenRequest]:
    """The fixed request list; ids and names come from the account's day-0 columns and registries."""
    a = account
    contacts = "/crm/v3/objects/contacts"
    custom = next(t for t in a.tables if t.startswith("2-"))
    contact_props = sorted(_all_props(a, "0-1"))
    every = _all_props(a, "0-1")
    first_list = a.lists_[0].list_id
    ticket_pipeline = a.pipeline_defs["0-5"][0].id
    ticket_stage = a.pipeline_defs["0-5"][0].stages[1].id
    recent = str(a.start_ms - 30 * 86_400_000)
    since = {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": recent}
    by_modified = [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]
    contact_ids = _ids(a, "0-1", 0, 1000)
    contacts_table = a.tables["0-1"]
    archived_id = str(contacts_table.ids[contacts_table.archived != 0][0])
    huge = "1" * 30  # beyond int64: exists nowhere
    email = next(
        v.properties["email"]
        for i in contact_ids[:50]
        if (v := a.record("0-1", int(i), ["email"]))
        and v.properties["email"]
        and "@" in v.properties["email"]
    )
    return [
        # objects: list, read, batch read
        GoldenRequest("ids", "GET", contacts, {"limit": "100", "properties": "hs_object_id"}),
        GoldenRequest("page-50", "GET", contacts,
                      {"limit": "100", "properties": ",".join(contact_props[:50]), "after": contact_ids[40]}),
        GoldenRequest("page-defaults", "GET", "/crm/v3/objects/deals", {"limit": "100"}),
        GoldenRequest("page-history", "GET", contacts,
                      {"limit": "50", "properties": "email,firstname",
                       "propertiesWithHistory": "lifecyclestage,email,hs_lead_status,lastmodifieddate"}),
        GoldenRequest("page-archived", "GET", contacts, {"limit": "100", "archived": "true"}),
        GoldenRequest("page-assoc", "GET", "/crm/v3/objects/companies",
                      {"limit": "30", "associations": "contacts,deals,companies"}),
        GoldenRequest("page-custom", "GET", f"/crm/v3/objects/{custom}", {"limit": "100"}),
        GoldenRequest("read-one", "GET", f"{contacts}/{contact_ids[5]}",
                      {"propertiesWithHistory": "email", "associations": "companies"}),
        GoldenRequest("read-missing", "GET", f"{contacts}/1"),
        GoldenRequest("read-huge-id", "GET", f"{contacts}/{huge}"),
        GoldenRequest("read-archived", "GET", f"{contacts}/{archived_id}", {"archived": "true"}),
        GoldenRequest("read-by-email", "GET", f"{contacts}/{email}", {"idProperty": "email"}),
        GoldenRequest("batch-odd-ids", "POST", f"{contacts}/batch/read",
                      body={"inputs": [{"id": x} for x in [huge, contact_ids[0], "abc", "", contact_ids[0],
                                                           "0" + contact_ids[0], archived_id]],
                            "properties": ["email", "lifecyclestage"], "propertiesWithHistory": ["lifecyclestage"]}),
        GoldenRequest("batch-by-email", "POST", f"{contacts}/batch/read",
                      body={"inputs": [{"id": email}, {"id": "nobody@example.com"}], "idProperty": "email"}),
        GoldenRequest("page-assoc-contacts", "GET", contacts,
                      {"limit": "100", "associations": "companies,deals,contacts", "properties": "email"}),
        GoldenRequest("batch-contacts", "POST", f"{contacts}/batch/read",
                      body={"inputs": [{"id": i} for i in [*_ids(a, "0-1", 0, 198, 2), "7"]],
                            "properties": every, "propertiesWithHistory": every}),
        GoldenRequest("batch-deals", "POST", "/crm/v3/objects/deals/batch/read",
                      body={"inputs": [{"id": i} for i in _ids(a, "0-3", 0, 100)],
                            "properties": _all_props(a, "0-3"), "propertiesWithHistory": _all_props(a, "0-3")}),
        GoldenRequest("batch-tickets", "POST", "/crm/v3/objects/tickets/batch/read",
                      body={"inputs": [{"id": i} for i in _ids(a, "0-5", 0, 100)],
                            "properties": _all_props(a, "0-5")}),
        GoldenRequest("batch-custom", "POST", f"/crm/v3/objects/{custom}/batch/read",
                      body={"inputs": [{"id": i} for i in _ids(a, custom, 0, 100)],
                            "properties": _all_props(a, custom), "propertiesWithHistory": _all_props(a, custom)}),
        GoldenRequest("batch-notes", "POST", "/crm/v3/objects/notes/batch/read",
                      body={"inputs": [{"id": i} for i in _ids(a, "0-46", 0, 100)],
                            "properties": _all_props(a, "0-46")}),
        # search
        GoldenRequest("search-modified", "POST", f"{contacts}/search",
                      body={"filterGroups": [{"filters": [since]}], "sorts": by_modified, "limit": 200,
                            "properties": ["email", "lastmodifieddate"]}),
        GoldenRequest("search-modified-lag", "POST", "/crm/v3/objects/companies/search",
                      body={"filterGroups": [{"filters": [since]}], "sorts": by_modified, "limit": 100},
                      search_lag=6 * 3600),
        GoldenRequest("search-range-page2", "POST", "/crm/v3/objects/deals/search",
                      body={"filterGroups": [{"filters": [
                          {**since, "operator": "LT"}, {"propertyName": "createdate", "operator": "GT", "value": "0"}]}],
                          "sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}],
                          "limit": 10, "after": "10"}),
        GoldenRequest("search-enum-sort", "POST", f"{contacts}/search",
                      body={"filterGroups": [{"filters": [{"propertyName": "lifecyclestage", "operator": "IN",
                                                           "values": ["lead", "customer"]}]},
                                             {"filters": [{"propertyName": "hs_lead_status", "operator": "HAS_PROPERTY"}]}],
                            "sorts": [{"propertyName": "firstname", "direction": "ASCENDING"}], "limit": 50}),
        GoldenRequest("search-query", "POST", f"{contacts}/search", body={"query": "an", "limit": 20}),
        GoldenRequest("search-assoc", "POST", f"{contacts}/search",
                      body={"filterGroups": [{"filters": [{"propertyName": "associations.company", "operator": "EQ",
                                                           "value": _ids(a, "0-2", 0, 1)[0]}]}], "limit": 100}),
        GoldenRequest("search-too-big", "POST", f"{contacts}/search", body={"limit": 200, "after": "9900"}),
        # properties and schemas
        GoldenRequest("properties", "GET", "/crm/v3/properties/contacts"),
        GoldenRequest("properties-deals", "GET", "/crm/v3/properties/deals"),
        GoldenRequest("properties-archived", "GET", "/crm/v3/properties/companies", {"archived": "true"}),
        GoldenRequest("property-groups", "GET", "/crm/v3/properties/deals/groups"),
        GoldenRequest("property-one", "GET", "/crm/v3/properties/deals/dealstage"),
        GoldenRequest("properties-batch", "POST", "/crm/v3/properties/contacts/batch/read",
                      body={"inputs": [{"name": n} for n in [*contact_props[:20], "nope"]]}),
        GoldenRequest("schemas", "GET", "/crm/v3/schemas"),
        GoldenRequest("schema-one", "GET", f"/crm/v3/schemas/{custom}", {"includeAssociationDefinitions": "false"}),
        GoldenRequest("schemas-batch", "POST", "/crm/v3/schemas/batch/read", body={"inputs": [custom, "0-1", "x"]}),
        GoldenRequest("property-group-one", "GET", "/crm/v3/properties/contacts/groups/contactinformation"),
        # associations
        GoldenRequest("assoc-record", "GET", f"/crm/v4/objects/companies/{_ids(a, '0-2', 0, 1)[0]}/associations/contacts"),
        GoldenRequest("assoc-batch-contacts", "POST", "/crm/v4/associations/contacts/companies/batch/read",
                      body={"inputs": [{"id": i} for i in contact_ids]}),
        GoldenRequest("assoc-batch-companies", "POST", "/crm/v4/associations/companies/contacts/batch/read",
                      body={"inputs": [{"id": i} for i in _ids(a, "0-2", 0, 1000)]}),
        GoldenRequest("assoc-batch-odd-ids", "POST", "/crm/v4/associations/companies/contacts/batch/read",
                      body={"inputs": [{"id": huge}, {"id": "x"}, "5", {"id": _ids(a, "0-2", 0, 1)[0],
                                                                       "after": contact_ids[len(contact_ids) * 2 // 3]}]}),
        GoldenRequest("assoc-batch-deals", "POST", "/crm/v4/associations/deals/line_items/batch/read",
                      body={"inputs": [{"id": i} for i in _ids(a, "0-3", 0, 1000)]}),
        GoldenRequest("assoc-labels", "GET", "/crm/v4/associations/contacts/companies/labels"),
        GoldenRequest("assoc-configs", "GET", "/crm/v4/associations/definitions/configurations/all"),
        GoldenRequest("assoc-pair-configs", "GET", "/crm/v4/associations/definitions/configurations/contact/company"),
        # pipelines, owners, users
        GoldenRequest("pipelines", "GET", "/crm/v3/pipelines/deals"),
        GoldenRequest("pipeline-one", "GET", f"/crm/v3/pipelines/tickets/{ticket_pipeline}"),
        GoldenRequest("stages", "GET", f"/crm/v3/pipelines/tickets/{ticket_pipeline}/stages"),
        GoldenRequest("stage-one", "GET", f"/crm/v3/pipelines/tickets/{ticket_pipeline}/stages/{ticket_stage}"),
        GoldenRequest("owner-one", "GET", f"/crm/v3/owners/{a.directory.owners_[0].id}"),
        GoldenRequest("owners", "GET", "/crm/v3/owners", {"limit": "500"}),
        GoldenRequest("owners-archived", "GET", "/crm/v3/owners", {"archived": "true"}),
        GoldenRequest("users", "GET", "/settings/v3/users", {"limit": "100"}),
        GoldenRequest("user-one", "GET", f"/settings/v3/users/{a.directory.live_user_ids[0]}"),
        GoldenRequest("teams", "GET", "/settings/v3/users/teams"),
        GoldenRequest("roles", "GET", "/settings/v3/users/roles"),
        # lists
        GoldenRequest("lists-search", "POST", "/crm/v3/lists/search", body={"count": 500}),
        GoldenRequest("list-read", "GET", f"/crm/v3/lists/{first_list}", {"includeFilters": "true"}),
        GoldenRequest("lists-by-id", "GET", "/crm/v3/lists", {"listIds": ",".join(str(x.list_id) for x in a.lists_)}),
        GoldenRequest("memberships", "GET", f"/crm/v3/lists/{first_list}/memberships", {"limit": "250"}),
        GoldenRequest("memberships-after", "GET", f"/crm/v3/lists/{first_list}/memberships",
                      {"limit": "100", "after": "100"}),
        GoldenRequest("memberships-join", "GET", f"/crm/v3/lists/{first_list}/memberships/join-order",
                      {"limit": "5", "after": "2"}),
        GoldenRequest("memberships-join-all", "GET", f"/crm/v3/lists/{first_list}/memberships/join-order",
                      {"limit": "250"}),
        GoldenRequest("memberships-past-end", "GET", f"/crm/v3/lists/{a.lists_[1].list_id}/memberships",
                      {"after": "100000"}),
        GoldenRequest("memberships-unknown", "GET", "/crm/v3/lists/999999/memberships"),
        GoldenRequest("record-memberships", "POST", "/crm/v3/lists/records/memberships/batch/read",
                      body={"inputs": [{"objectTypeId": a.lists_[0].object_type_id, "recordId": i}
                                       for i in [*_ids(a, a.lists_[0].object_type_id, 0, 40, 4), "1"]]}),
        GoldenRequest("list-leading-zero", "GET", f"/crm/v3/lists/0{first_list}"),
        # events and account
        GoldenRequest("events", "GET", "/events/v3/events",
                      {"objectType": "contact", "objectId": contact_ids[3], "limit": "100"}),
        GoldenRequest("event-types", "GET", "/events/v3/events/event-types"),
        GoldenRequest("event-definitions", "GET", "/events/v3/event-definitions", {"includeProperties": "true"}),
        GoldenRequest("event-definition-one", "GET", f"/events/v3/event-definitions/{a.event_definitions()[0]['name']}"),
        GoldenRequest("account", "GET", "/account-info/v3/details"),
        GoldenRequest("usage", "GET", "/account-info/v3/api-usage/daily/private-apps"),
        GoldenRequest("too-many", "GET", contacts, {"limit": "101"}),
    ]  # fmt: skip


def _digest(response: requests.Response) -> str:
    body = CORRELATION.sub(b'"correlationId":"-"', response.content)
    head = f"{response.status_code}\n{response.headers.get('Content-Type')}\n".encode()
    return hashlib.sha256(head + body).hexdigest()


def digests(
    config: SandboxConfig, requests_for: Callable[[Account], list[GoldenRequest]] | None = None
) -> dict[str, str]:
    """`"<day>/<request name>" -> sha256` of every golden request (`requests_for`, default this
    module's list; the legacy families pass theirs), at day 0 and after advance(2)."""
    out: dict[str, str] = {}
    with Sandbox(config) as sb, sb.session() as session:
        session.headers["Host"] = HOST
        requests_ = (requests_for or golden_requests)(sb.account)
        for day in DAYS:
            sb.advance(day - sb.account.days_advanced)
            for req in requests_:
                sb.set_search_lag(req.search_lag)
                response = session.request(
                    req.method, f"{sb.base_url}{req.path}", params=req.params, json=req.body
                )
                out[f"{day}/{req.name}"] = _digest(response)
    return out


def assert_unchanged(fixture: Path, name: str, got: dict[str, str]) -> None:
    """The digests of config `name` equal those recorded in `fixture` (this module's and the families')."""
    want = json.loads(fixture.read_text())[name]
    assert set(got) == set(want), "the golden request list changed: re-record it"
    changed = sorted(key for key in want if got[key] != want[key])
    assert not changed, f"answers changed at {name}: {changed}"


def record(
    fixture: Path,
    configs: dict[str, SandboxConfig],
    requests_for: Callable[[Account], list[GoldenRequest]] | None = None,
) -> None:
    """Re-record `fixture` after an intended change (each golden module's `--record`)."""
    fixture.parent.mkdir(exist_ok=True)
    found = {name: digests(cfg, requests_for) for name, cfg in configs.items()}
    fixture.write_text(json.dumps(found, indent=1) + "\n")
    print(f"recorded {sum(len(d) for d in found.values())} digests in {fixture.name}")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_golden_responses_are_byte_identical(name: str) -> None:
    assert_unchanged(FIXTURE, name, digests(CONFIGS[name]))


def routes_reached(requests_for: Callable[[Account], list[GoldenRequest]]) -> set[Route]:
    """The routes a golden list reaches (each request must match one)."""
    router = Router(ROUTES)
    reached = set()
    for req in requests_for(Account(1, "tiny", CONFIGS["tiny"].start_date)):
        matched = router.match(req.method, split_path(req.path))
        assert matched is not None, req.name
        reached.add(matched[0])
    return reached


def test_golden_list_covers_every_endpoint() -> None:
    """Every endpoint handler is reached (routes left out are only second spellings of a path)."""
    reached = {route.handler for route in routes_reached(golden_requests)}
    # the legacy families have golden lists of their own, which check they reach each of their routes;
    # the journal's answers carry wall-clock times: its tests check it reaches each of its handlers
    others = LEGACY_ROUTE_KEYS | JOURNAL_ROUTE_KEYS
    wanted = {route.handler for route in ROUTES if not route.control and route.key not in others}
    assert reached == wanted


if __name__ == "__main__" and "--record" in sys.argv:
    record(FIXTURE, CONFIGS)
