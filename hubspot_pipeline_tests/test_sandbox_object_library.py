"""The object library: the standard types modelled beside the eleven core ones (quotes, invoices,
leads, ... projects), their associations, scopes, activation and the enablement endpoints.

A golden of our own keeps the bytes of the enablement routes and of one request per new type
(re-record after an intended change with
`.venv/bin/python -m hubspot_pipeline_tests.test_sandbox_object_library --record`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from hubspot_pipeline_tests import test_sandbox_golden as golden
from hubspot_pipeline_tests.test_sandbox_golden import CONFIGS, GoldenRequest
from hubspot_sandbox import Sandbox, SandboxConfig
from hubspot_sandbox.auth import object_read_scopes
from hubspot_sandbox.endpoints import object_library
from hubspot_sandbox.model import Account
from hubspot_sandbox.model.library import LIBRARY_CATALOG, LIBRARY_PAIRS
from hubspot_sandbox.model.timefmt import DAY_MS
from hubspot_sandbox.model.types import ACTIVATABLE_TYPES, LIBRARY_TYPES, SCALES
from hubspot_sandbox.routes import Route

FIXTURE = Path(__file__).parent / "data" / "sandbox_golden_object_library.json"
ALL_ACTIVE = SandboxConfig(seed=3, scale="tiny", deactivated_types=())
LIBRARY_IDS = [t.type_id for t in LIBRARY_TYPES]
PIPELINE_TYPES = {"0-123", "0-136", "0-162", "0-410", "0-420", "0-421", "0-970"}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(ALL_ACTIVE) as sandbox:
        yield sandbox


@pytest.fixture
def api(sb: Sandbox) -> Iterator[requests.Session]:
    with sb.session() as session:
        yield session


def get(sb: Sandbox, api: requests.Session, path: str, **params: str) -> Any:
    response = api.get(f"{sb.base_url}{path}", params=params or None)
    assert response.status_code == 200, (path, response.text)
    return response.json()


# -- records, properties, history --------------------------------------------------------------------


@pytest.mark.parametrize("type_id", LIBRARY_IDS)
def test_each_type_lists_and_reads_records_with_history(
    sb: Sandbox, api: requests.Session, type_id: str
) -> None:
    otype = sb.account.resolve_type(type_id)
    assert otype is not None and not otype.custom
    curated = [p.name for p in LIBRARY_CATALOG[type_id]]
    page = get(sb, api, f"/crm/v3/objects/{otype.name}", limit="50", properties=",".join(curated),
               propertiesWithHistory=",".join(curated))  # fmt: skip
    table = sb.account.tables[type_id]
    live = [int(i) for i in table.ids[table.archived == 0].tolist()]
    assert [int(r["id"]) for r in page["results"]] == live
    assert len(live) == SCALES["tiny"][type_id] - (1 if len(table) >= 4 else 0)  # one archived before day 0
    for record in page["results"]:
        props = record["properties"]
        assert props["hs_object_id"] == record["id"]
        assert props["hs_lastmodifieddate"] == record["updatedAt"]
        history = record["propertiesWithHistory"]
        assert history["hs_lastmodifieddate"][0]["value"] == record["updatedAt"]
        assert history["createdate"][0]["value"] == record["createdAt"]
        for name, entries in history.items():
            assert (entries[0]["value"] if entries else None) == props[name], name
    one = page["results"][0]["id"]
    by_name = get(sb, api, f"/crm/v3/objects/{otype.name}/{one}", properties=otype.primary_display_property)
    by_id = get(sb, api, f"/crm/v3/objects/{type_id}/{one}", properties=otype.primary_display_property)
    assert by_name == by_id and by_name["properties"][otype.primary_display_property]
    batch = api.post(f"{sb.base_url}/crm/v3/objects/{type_id}/batch/read",
                     json={"inputs": [{"id": str(i)} for i in live], "properties": curated})  # fmt: skip
    assert batch.status_code == 200 and len(batch.json()["results"]) == len(live)
    archived = get(sb, api, f"/crm/v3/objects/{type_id}", archived="true")["results"]
    assert [int(r["id"]) for r in archived] == [int(i) for i in table.ids[table.archived != 0].tolist()]


@pytest.mark.parametrize("type_id", LIBRARY_IDS)
def test_each_type_has_real_properties_and_a_small_registry(
    sb: Sandbox, api: requests.Session, type_id: str
) -> None:
    results = get(sb, api, f"/crm/v3/properties/{type_id}")["results"]
    names = [p["name"] for p in results]
    assert 20 <= len(names) <= 40
    assert {"hs_object_id", "createdate", "hs_lastmodifieddate"} <= set(names)
    assert [p.name for p in LIBRARY_CATALOG[type_id]] == names[: len(LIBRARY_CATALOG[type_id])]
    assert sb.account.registry(type_id).lastmodified == "hs_lastmodifieddate"
    assert get(sb, api, f"/crm/v3/properties/{type_id}", archived="true")["results"]
    pipelines = get(sb, api, f"/crm/v3/pipelines/{type_id}")["results"]
    assert bool(pipelines) == (type_id in PIPELINE_TYPES)
    if pipelines:  # every record sits on one of the type's pipelines, on one of its stages
        stages = {s["id"] for p in pipelines for s in p["stages"]}
        for view in sb.account.all_records(type_id, properties=["hs_pipeline", "hs_pipeline_stage"]):
            assert view.properties["hs_pipeline"] in {p["id"] for p in pipelines}
            assert view.properties["hs_pipeline_stage"] in stages


def test_leads_pipeline_is_hubspots_default(sb: Sandbox, api: requests.Session) -> None:
    default = get(sb, api, "/crm/v3/pipelines/leads/lead-pipeline-id")
    assert [s["id"] for s in default["stages"]][:2] == ["new-stage-id", "attempting-stage-id"]


@pytest.mark.parametrize("type_id", ["0-14", "0-136", "0-421"])
def test_search_filters_sorts_and_queries(sb: Sandbox, api: requests.Session, type_id: str) -> None:
    table = sb.account.tables[type_id]
    url = f"{sb.base_url}/crm/v3/objects/{type_id}/search"
    everything = api.post(url, json={"limit": 100, "sorts": [{"propertyName": "hs_lastmodifieddate",
                                                               "direction": "DESCENDING"}]}).json()  # fmt: skip
    assert everything["total"] == int((table.archived == 0).sum())
    stamps = [r["updatedAt"] for r in everything["results"]]
    assert stamps == sorted(stamps, reverse=True)
    newest = stamps[0]
    since = {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": newest}
    found = api.post(url, json={"filterGroups": [{"filters": [since]}]}).json()
    assert found["total"] >= 1 and all(r["updatedAt"] >= newest for r in found["results"])
    primary = sb.account.resolve_type(type_id).primary_display_property
    first = (
        everything["results"][0]["properties"].get(primary)
        or get(sb, api, f"/crm/v3/objects/{type_id}/{everything['results'][0]['id']}", properties=primary)[
            "properties"
        ][primary]
    )
    word = first.split()[0]
    queried = api.post(url, json={"query": word, "properties": [primary]}).json()
    assert any(word.lower() in (r["properties"][primary] or "").lower() for r in queried["results"])


# -- associations -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a_type", "b_type", "p", "fwd_id", "inv_id"),
    LIBRARY_PAIRS,
    ids=[f"{a}-{b}" for a, b, *_ in LIBRARY_PAIRS],
)
def test_pairs_agree_in_both_directions(
    sb: Sandbox,
    api: requests.Session,
    a_type: str,
    b_type: str,
    p: float,
    fwd_id: int | None,
    inv_id: int | None,
) -> None:
    acct = sb.account
    a_ids = [str(i) for i in acct.tables[a_type].ids.tolist()]
    b_ids = [str(i) for i in acct.tables[b_type].ids.tolist()]

    def edges(from_type: str, to_type: str, ids: list[str]) -> set[tuple[str, str, int]]:
        body = {"inputs": [{"id": i} for i in ids]}
        answer = api.post(
            f"{sb.base_url}/crm/v4/associations/{from_type}/{to_type}/batch/read", json=body
        ).json()
        return {(r["from"]["id"], str(t["toObjectId"]), k["typeId"]) for r in answer["results"] for t in r["to"]
                for k in t["associationTypes"]}  # fmt: skip

    forward, inverse = edges(a_type, b_type, a_ids), edges(b_type, a_type, b_ids)
    assert {(x, y) for x, y, _ in forward} == {(x, y) for y, x, _ in inverse}
    if p >= 0.9:
        assert forward, (a_type, b_type)
    fwd_labels = get(sb, api, f"/crm/v4/associations/{a_type}/{b_type}/labels")["results"]
    inv_labels = get(sb, api, f"/crm/v4/associations/{b_type}/{a_type}/labels")["results"]
    assert len(fwd_labels) == len(inv_labels) == 1
    assert {k for _, _, k in forward} <= {fwd_labels[0]["typeId"]}
    assert {k for _, _, k in inverse} <= {inv_labels[0]["typeId"]}
    assert fwd_labels[0]["typeId"] != inv_labels[0]["typeId"]
    if fwd_id is not None:  # HubSpot's documented ids
        assert (fwd_labels[0]["typeId"], inv_labels[0]["typeId"]) == (fwd_id, inv_id)
    configs = get(sb, api, f"/crm/v4/associations/definitions/configurations/{a_type}/{b_type}")["results"]
    assert [c["typeId"] for c in configs] == [fwd_labels[0]["typeId"]]
    v3 = api.post(f"{sb.base_url}/crm/v3/associations/{a_type}/{b_type}/batch/read",
                  json={"inputs": [{"id": i} for i in a_ids]}).json()  # fmt: skip
    assert {(r["from"]["id"], t["id"]) for r in v3["results"] for t in r["to"]} == {
        (x, y) for x, y, _ in forward
    }


def test_inline_associations_on_object_reads(sb: Sandbox, api: requests.Session) -> None:
    page = get(sb, api, "/crm/v3/objects/quotes", associations="deals,line_items")
    inline = {r["id"]: r.get("associations", {}) for r in page["results"]}
    assert any("deals" in a for a in inline.values())
    for quote_id, found in inline.items():
        for to_type in ("deals", "line_items"):
            expected = [str(i) for i, _ in sb.account.associations("0-14", int(quote_id), to_type)]
            assert [row["id"] for row in found.get(to_type, {}).get("results", [])] == expected
    assert not sb.account.association_labels("0-14", "0-46")  # pairs exist only where defined


# -- activation -----------------------------------------------------------------------------------------


def _type_paths(sb: Sandbox, type_ref: str) -> list[tuple[str, str, Any]]:
    record = str(sb.account.tables[sb.account.resolve_type(type_ref).type_id].ids[0])
    return [
        ("GET", f"/crm/v3/objects/{type_ref}", None),
        ("GET", f"/crm/v3/objects/{type_ref}/{record}", None),
        ("POST", f"/crm/v3/objects/{type_ref}/batch/read", {"inputs": [{"id": record}]}),
        ("POST", f"/crm/v3/objects/{type_ref}/search", {"limit": 1}),
        ("GET", f"/crm/v3/properties/{type_ref}", None),
        ("GET", f"/crm/v3/pipelines/{type_ref}", None),
        ("GET", f"/crm/v4/objects/{type_ref}/{record}/associations/contacts", None),
        ("POST", f"/crm/v4/associations/contacts/{type_ref}/batch/read", {"inputs": [{"id": "1"}]}),
        ("GET", f"/crm/v4/associations/{type_ref}/contacts/labels", None),
    ]


def test_default_enablement_and_deactivated_types_answer_an_error() -> None:
    with Sandbox(SandboxConfig(scale="tiny")) as sb, sb.session() as api:
        want = {"0-162": True, "0-410": False, "0-420": False, "0-421": True}
        for prefix in object_library.PREFIXES:
            assert api.get(f"{sb.base_url}{prefix}").json() == {"enablementByObjectTypeId": want}
            for type_id, active in want.items():
                assert api.get(f"{sb.base_url}{prefix}/{type_id}").json() == {"enablement": active}
            missing = api.get(f"{sb.base_url}{prefix}/0-1")
            assert missing.status_code == 404 and missing.json()["category"] == "OBJECT_NOT_FOUND"
        for ref, name in (("courses", "courses"), ("0-420", "listings")):
            for method, path, body in _type_paths(sb, ref):
                response = api.request(method, f"{sb.base_url}{path}", json=body)
                assert response.status_code == 400, path
                error = response.json()
                assert error["category"] == "VALIDATION_ERROR" and "not activated" in error["message"], path
                assert name in error["message"] and error["context"]["objectTypeId"] == [
                    sb.account.resolve_type(ref).type_id
                ]
        for ref in ("appointments", "services"):
            for method, path, body in _type_paths(sb, ref):
                assert api.request(method, f"{sb.base_url}{path}", json=body).status_code in (200, 207), path
        # inline associations skip a deactivated type, as they skip unknown names
        page = api.get(f"{sb.base_url}/crm/v3/objects/contacts", params={"associations": "courses"}).json()
        assert all("associations" not in r for r in page["results"])
        sb.activate_type("courses")
        assert api.get(f"{sb.base_url}/crm/v3/objects/courses").status_code == 200
        assert sb.enablement()["0-410"] is True
        sb.deactivate_type("0-421")
        assert api.get(f"{sb.base_url}/crm/v3/objects/appointments").status_code == 400
        with pytest.raises(ValueError, match="not an activatable"):
            sb.deactivate_type("quotes")
    with pytest.raises(ValueError, match="not an activatable"):
        Sandbox(SandboxConfig(scale="tiny", deactivated_types=("contacts",)))


def test_enablement_needs_any_object_read_scope(sb: Sandbox) -> None:
    sb.add_token("pat-nothing", scopes=[])
    sb.add_token("pat-leads", scopes=["crm.objects.leads.read"])
    with sb.session("pat-nothing") as none, sb.session("pat-leads") as leads:
        for prefix in object_library.PREFIXES:
            denied = none.get(f"{sb.base_url}{prefix}")
            assert denied.status_code == 403 and denied.json()["category"] == "MISSING_SCOPES"
            assert leads.get(f"{sb.base_url}{prefix}").status_code == 200


# -- scopes ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("type_id", LIBRARY_IDS)
def test_a_token_without_the_types_scope_gets_403_naming_it(sb: Sandbox, type_id: str) -> None:
    otype = sb.account.resolve_type(type_id)
    (scope,) = object_read_scopes(otype)
    other = "crm.objects.deals.read" if scope != "crm.objects.deals.read" else "tickets"
    sb.add_token(f"pat-only-{scope}", scopes=[scope])
    sb.add_token(f"pat-not-{type_id}", scopes=[other])
    with sb.session(f"pat-not-{type_id}") as without, sb.session(f"pat-only-{scope}") as granted:
        for path in (f"/crm/v3/objects/{otype.name}", f"/crm/v3/properties/{type_id}"):
            denied = without.get(f"{sb.base_url}{path}")
            assert denied.status_code == 403, path
            assert scope in denied.json()["errors"][0]["context"]["requiredScopes"]
            assert granted.get(f"{sb.base_url}{path}").status_code == 200, path


def test_documented_scopes() -> None:
    account = Account(1, "tiny", CONFIGS["tiny"].start_date)
    scopes = {
        t.type_id: next(iter(object_read_scopes(account.resolve_type(t.type_id)))) for t in LIBRARY_TYPES
    }
    assert scopes["0-14"] == "crm.objects.quotes.read" and scopes["0-136"] == "crm.objects.leads.read"
    assert (
        scopes["0-74"] == "crm.objects.goals.read" and scopes["0-101"] == "crm.objects.commercepayments.read"
    )
    assert scopes["0-84"] == scopes["0-85"] == scopes["0-86"] == "e-commerce"
    assert (
        scopes["0-970"] == "crm.objects.projects.read" and scopes["0-421"] == "crm.objects.appointments.read"
    )
    assert set(ACTIVATABLE_TYPES) == {"0-162", "0-410", "0-420", "0-421"}


# -- determinism and the daily changes ------------------------------------------------------------------


def test_two_builds_answer_the_same_and_advance_changes_every_type() -> None:
    start = CONFIGS["small"].start_date
    one, two = Account(4, "small", start), Account(4, "small", start)
    for type_id in LIBRARY_IDS:
        assert one.tables[type_id].ids.tolist() == two.tables[type_id].ids.tolist()
        assert [v.properties for v in one.all_records(type_id)] == [
            v.properties for v in two.all_records(type_id)
        ]
    before = {t: set(one.tables[t].ids.tolist()) for t in LIBRARY_IDS}
    day_start = one.now_ms
    one.advance(3)
    two.advance(3)
    archived_today = 0
    for type_id in LIBRARY_IDS:
        table = one.tables[type_id]
        assert table.ids.tolist() == two.tables[type_id].ids.tolist()
        assert set(table.ids.tolist()) > before[type_id], type_id  # created records
        updated = [v for v in one.all_records(type_id, include_archived=False) if v.updated_ms >= day_start]
        assert any(v.id in before[type_id] for v in updated), type_id  # updated old records
        for view in updated:
            assert view.history["hs_lastmodifieddate"][0]["value"] == view.properties["hs_lastmodifieddate"]
        archived_today += int((table.archived >= day_start).sum())
        assert [v.properties for v in one.all_records(type_id)] == [
            v.properties for v in two.all_records(type_id)
        ]
    assert archived_today > 0  # deletes, on the larger types
    assert one.now_ms == day_start + 3 * DAY_MS


def test_a_custom_type_named_like_a_standard_one_keeps_the_standard_name() -> None:
    account = Account(1, "tiny", CONFIGS["tiny"].start_date)
    account.advance(6)  # day 5 creates the custom type "projects"
    custom = [t for t in account.object_types() if t.custom and t.name == "projects"]
    assert len(custom) == 1
    assert account.resolve_type("projects").type_id == "0-970"
    assert account.resolve_type(custom[0].fully_qualified_name) == custom[0]
    assert account.resolve_type(custom[0].type_id) == custom[0]


# -- golden --------------------------------------------------------------------------------------------------


def golden_requests(account: Account) -> list[GoldenRequest]:
    """The enablement routes, and one list request with history per object-library type."""
    out = [
        GoldenRequest(f"enablement-{k}", "GET", prefix) for k, prefix in enumerate(object_library.PREFIXES)
    ] + [
        GoldenRequest(f"enablement-{k}-{ref}", "GET", f"{prefix}/{ref}")
        for k, prefix in enumerate(object_library.PREFIXES)
        for ref in ("0-410", "0-421", "0-1")
    ]
    for st in LIBRARY_TYPES:
        names = ",".join(account.tables[st.type_id].registry.live)
        out.append(GoldenRequest(f"objects-{st.name}", "GET", f"/crm/v3/objects/{st.name}",
                                 {"limit": "50", "properties": names, "propertiesWithHistory": names}))  # fmt: skip
    return out


def digests(config: SandboxConfig) -> dict[str, str]:
    return golden.digests(config, golden_requests)


def test_golden_list_covers_every_object_library_route() -> None:
    reached = {route.key for route in golden.routes_reached(golden_requests)}
    assert {r.key for r in object_library.routes(Route)} <= reached


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_object_library_golden_responses_are_byte_identical(name: str) -> None:
    golden.assert_unchanged(FIXTURE, name, digests(CONFIGS[name]))


if __name__ == "__main__" and "--record" in sys.argv:
    golden.record(FIXTURE, CONFIGS, golden_requests)
