"""HubSpot's official Python SDK (`hubspot-api-client`) reads every endpoint family from the sandbox.

The SDK deserialises each answer into its generated models and validates required fields and
enumerations, so a shape the sandbox gets wrong fails here. Each test also checks a content
against the account model. The host is set the SDK's own way: `HubSpot(host=...)` becomes
`Configuration.host` of every API client it builds.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.lists import ListSearchRequest
from hubspot.crm.objects import (
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
)
from hubspot.crm.properties import BatchReadInputPropertyName, PropertyName

from hubspot_sandbox import Sandbox, SandboxConfig


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=5, scale="tiny")) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb: Sandbox) -> HubSpot:
    return HubSpot(access_token=sb.config.token, host=sb.base_url)


def live_ids(sb: Sandbox, type_id: str) -> list[int]:
    return sb.account.record_ids(type_id, archived=False, after=None, limit=10**9)


def test_objects_basic_get_page_and_get_by_id(sb: Sandbox, client: HubSpot) -> None:
    page = client.crm.contacts.basic_api.get_page(
        limit=100, properties=["email", "firstname"], associations=["companies"]
    )
    assert [int(r.id) for r in page.results] == live_ids(sb, "0-1")[:100]
    first = page.results[0]
    assert first.properties["email"] == sb.account.record("0-1", int(first.id), ["email"]).properties["email"]
    custom = next(t for t in sb.account.object_types() if t.custom)
    custom_page = client.crm.objects.basic_api.get_page(custom.type_id, limit=5)
    assert [int(r.id) for r in custom_page.results] == live_ids(sb, custom.type_id)[:5]
    deal_id = live_ids(sb, "0-3")[2]
    deal = client.crm.deals.basic_api.get_by_id(
        str(deal_id), properties=["dealname"], properties_with_history=["dealstage"]
    )
    truth = sb.account.record("0-3", deal_id, ["dealname"], with_history=["dealstage"])
    assert deal.properties["dealname"] == truth.properties["dealname"]
    assert [h.value for h in deal.properties_with_history["dealstage"]] == [
        h["value"] for h in truth.history["dealstage"]
    ]


def test_objects_batch_read(sb: Sandbox, client: HubSpot) -> None:
    ids = live_ids(sb, "0-2")[:4]
    request = BatchReadInputSimplePublicObjectId(
        inputs=[{"id": str(i)} for i in ids], properties=["name", "domain"], properties_with_history=[]
    )
    answer = client.crm.companies.batch_api.read(batch_read_input_simple_public_object_id=request)
    assert answer.status == "COMPLETE"
    assert sorted(int(r.id) for r in answer.results) == ids
    names = {r.id: r.properties["name"] for r in answer.results}
    assert names[str(ids[0])] == sb.account.record("0-2", ids[0], ["name"]).properties["name"]


def test_objects_search(sb: Sandbox, client: HubSpot) -> None:
    cutoff = live_ids(sb, "0-1")[9]
    request = PublicObjectSearchRequest(
        filter_groups=[
            FilterGroup(filters=[Filter(property_name="hs_object_id", operator="GT", value=str(cutoff))])
        ],
        sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        properties=["email"],
        limit=7,
        after="0",
    )
    answer = client.crm.contacts.search_api.do_search(public_object_search_request=request)
    expected = [i for i in live_ids(sb, "0-1") if i > cutoff]
    assert answer.total == len(expected)
    assert [int(r.id) for r in answer.results] == expected[:7]
    assert answer.paging.next.after == "7"


def test_properties_all_one_groups_and_batch(sb: Sandbox, client: HubSpot) -> None:
    props = client.crm.properties.core_api.get_all("contacts")
    truth = sb.account.property_definitions("0-1")
    assert [p.name for p in props.results] == [p["name"] for p in truth]
    one = client.crm.properties.core_api.get_by_name("contacts", "email")
    assert (one.name, one.type) == ("email", "string")
    groups = client.crm.properties.groups_api.get_all("contacts")
    assert {g.name for g in groups.results} == {p["groupName"] for p in truth}
    batch = client.crm.properties.batch_api.read(
        "contacts",
        batch_read_input_property_name=BatchReadInputPropertyName(
            inputs=[PropertyName(name="email"), PropertyName(name="firstname")], archived=False
        ),
    )
    assert sorted(p.name for p in batch.results) == ["email", "firstname"]
    archived = client.crm.properties.core_api.get_all("contacts", archived=True)
    assert [p.name for p in archived.results] == [
        p["name"] for p in sb.account.property_definitions("0-1", True)
    ]


def test_schemas(sb: Sandbox, client: HubSpot) -> None:
    schemas = client.crm.schemas.core_api.get_all()
    custom = [t for t in sb.account.object_types() if t.custom]
    assert sorted(s.object_type_id for s in schemas.results) == sorted(t.type_id for t in custom)
    one = client.crm.schemas.core_api.get_by_id(custom[0].fully_qualified_name)
    assert one.object_type_id == custom[0].type_id
    assert one.labels.singular == custom[0].label_singular


def test_associations_v4_page_batch_and_labels(sb: Sandbox, client: HubSpot) -> None:
    contact = next(i for i in live_ids(sb, "0-1") if sb.account.associations("0-1", i, "0-2"))
    truth = sb.account.associations("0-1", contact, "0-2")
    page = client.crm.associations.v4.basic_api.get_page("contacts", str(contact), "companies", limit=500)
    # The SDK types toObjectId as a string (the spec) although the API sends a JSON number (the docs).
    assert [r.to_object_id for r in page.results] == [str(to_id) for to_id, _ in truth]
    assert {t.type_id for t in page.results[0].association_types} == {k["typeId"] for k in truth[0][1]}
    request = BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[PublicFetchAssociationsBatchRequest(id=str(contact))]
    )
    batch = client.crm.associations.v4.batch_api.get_page(
        "contacts", "companies", batch_input_public_fetch_associations_batch_request=request
    )
    assert [t.to_object_id for t in batch.results[0].to] == [str(to_id) for to_id, _ in truth]
    labels = client.crm.associations.v4.schema.definitions_api.get_all("contacts", "companies")
    assert {(label.type_id, label.label) for label in labels.results} == {
        (label["typeId"], label["label"]) for label in sb.account.association_labels("0-1", "0-2")
    }


def test_pipelines_and_stages(sb: Sandbox, client: HubSpot) -> None:
    pipelines = client.crm.pipelines.pipelines_api.get_all("deals")
    truth = sb.account.pipelines("0-3")
    assert [p.id for p in pipelines.results] == [p["id"] for p in truth]
    one = client.crm.pipelines.pipelines_api.get_by_id("deals", truth[0]["id"])
    stages = client.crm.pipelines.pipeline_stages_api.get_all("deals", truth[0]["id"])
    assert (
        [s.id for s in stages.results] == [s.id for s in one.stages] == [s["id"] for s in truth[0]["stages"]]
    )
    assert "probability" in stages.results[0].metadata
    tickets = client.crm.pipelines.pipelines_api.get_all("tickets")
    assert tickets.results[0].stages[0].metadata["ticketState"] in ("OPEN", "CLOSED")


def test_owners(sb: Sandbox, client: HubSpot) -> None:
    truth = sb.account.owners(False)
    page = client.crm.owners.owners_api.get_page(limit=500)
    assert [o.id for o in page.results] == [o["id"] for o in truth]
    archived = client.crm.owners.owners_api.get_page(archived=True, limit=500)
    assert archived.results and all(o.archived and o.user_id is None for o in archived.results)
    one = client.crm.owners.owners_api.get_by_id(int(truth[0]["id"]))
    assert one.email == truth[0]["email"]


def test_lists_search_fetch_and_memberships(sb: Sandbox, client: HubSpot) -> None:
    truth = sb.account.lists()
    found = client.crm.lists.lists_api.do_search(list_search_request=ListSearchRequest(count=500, offset=0))
    assert found.total == len(truth)
    assert [item.list_id for item in found.lists] == [str(item["listId"]) for item in truth]
    list_id = str(
        max(truth, key=lambda item: len(sb.account.list_memberships(int(item["listId"]))))["listId"]
    )
    fetched = client.crm.lists.lists_api.get_by_id(list_id)
    assert fetched.list.list_id == list_id
    assert fetched.list.size == len(sb.account.list_memberships(int(list_id)))
    several = client.crm.lists.lists_api.get_all(list_ids=[list_id, str(truth[0]["listId"])])
    assert {item.list_id for item in several.lists} == {list_id, str(truth[0]["listId"])}
    members = client.crm.lists.memberships_api.get_page(list_id, limit=250)
    assert [m.record_id for m in members.results] == [
        str(r) for r, _ in sb.account.list_memberships(int(list_id))
    ][:250]
    joined = client.crm.lists.memberships_api.get_page_ordered_by_added_to_list_date(list_id, limit=250)
    assert sorted(m.record_id for m in joined.results) == sorted(m.record_id for m in members.results)


def test_event_occurrences_and_types(sb: Sandbox, client: HubSpot) -> None:
    contact = next(i for i in live_ids(sb, "0-1") if sb.account.events("0-1", i))
    truth = sb.account.events("0-1", contact)
    page = client.events.events_api.get_page(object_type="contact", object_id=contact, limit=100)
    assert [e.id for e in page.results] == [e["id"] for e in truth][:100]
    assert page.results[0].event_type == truth[0]["eventType"]
    types = client.events.events_api.get_types()
    assert types.event_types == sb.account.event_types()


def test_users_teams_and_roles(sb: Sandbox, client: HubSpot) -> None:
    users = client.settings.users.users_api.get_page(limit=100)
    truth = sb.account.users()
    assert [u.id for u in users.results] == [str(u["id"]) for u in truth][:100]
    one = client.settings.users.users_api.get_by_id(str(truth[0]["id"]))
    assert one.email == truth[0]["email"]
    teams = client.settings.users.teams_api.get_all()
    assert [t.name for t in teams.results] == [t["name"] for t in sb.account.teams()]
    roles = client.settings.users.roles_api.get_all()
    assert {r.id for r in roles.results} == {str(u["roleId"]) for u in truth if u.get("roleId")}
