"""The sandbox's account model: determinism, invariants of generated data, the day of changes, search."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import pytest

from hubspot_sandbox.model import Account, SearchError
from hubspot_sandbox.model.timefmt import DAY_MS, iso_ms, parse_time_ms
from hubspot_sandbox.model.types import LIBRARY_TYPE_IDS

START = dt.date(2026, 11, 1)
STANDARD = ("0-1", "0-2", "0-3", "0-5", "0-7", "0-8", "0-27", "0-46", "0-47", "0-48", "0-49")


@pytest.fixture(scope="module")
def small() -> Account:
    return Account(seed=7, scale="small", start_date=START)


@pytest.fixture(scope="module")
def tiny_week() -> tuple[Account, Account]:
    """A tiny account before and after six advanced days (bulk update of 25 contacts a day)."""
    before = Account(seed=3, scale="tiny", start_date=START)
    after = Account(seed=3, scale="tiny", start_date=START)
    after.advance(days=6, bulk_update=25)
    return before, after


def lastmod(acct: Account, type_id: str) -> str:
    return acct.registry(type_id).lastmodified


def ms(text: str) -> int:
    return parse_time_ms(text)


# --- determinism ---------------------------------------------------------------------------------


def test_same_inputs_give_identical_records_and_different_seed_differs() -> None:
    a = Account(seed=11, scale="tiny", start_date=START)
    b = Account(seed=11, scale="tiny", start_date=START)
    c = Account(seed=12, scale="tiny", start_date=START)
    for type_id in ("0-1", "0-3", "0-46"):
        assert list(a.all_records(type_id)) == list(b.all_records(type_id))
    assert a.owners(False) == b.owners(False) and a.lists() == b.lists()
    assert a.events("0-1", a.record_ids("0-1", archived=False, after=None, limit=1)[0]) == b.events(
        "0-1", b.record_ids("0-1", archived=False, after=None, limit=1)[0]
    )
    emails_a = [r.properties["email"] for r in a.all_records("0-1")]
    emails_c = [r.properties["email"] for r in c.all_records("0-1")]
    assert emails_a != emails_c
    assert a.portal_id != c.portal_id


def test_advanced_accounts_are_identical(tiny_week: tuple[Account, Account]) -> None:
    _, after = tiny_week
    again = Account(seed=3, scale="tiny", start_date=START)
    for _ in range(6):
        again.advance(days=1, bulk_update=25)
    assert [o.type_id for o in again.object_types()] == [o.type_id for o in after.object_types()]
    for otype in after.object_types():
        assert list(again.all_records(otype.type_id)) == list(after.all_records(otype.type_id)), otype.name
    assert again.lists() == after.lists()
    assert again.list_memberships(5) == after.list_memberships(5)


def test_values_do_not_depend_on_what_else_is_requested(small: Account) -> None:
    rid = small.record_ids("0-1", archived=False, after=None, limit=3)[2]
    alone = small.record("0-1", rid, ["city"])
    many = small.record("0-1", rid, ["email", "city", "lifecyclestage"])
    assert alone is not None and many is not None
    assert alone.properties == {"city": many.properties["city"]}


# --- types, properties, schemas ------------------------------------------------------------------


def test_object_types_and_resolution(small: Account) -> None:
    types = small.object_types()
    assert [t.type_id for t in types if t.type_id in STANDARD] == list(STANDARD)
    assert {t.type_id for t in types if not t.custom} == {*STANDARD, *LIBRARY_TYPE_IDS}
    customs = [t for t in types if t.custom]
    assert len(customs) == 2 and all(t.type_id.startswith("2-") for t in customs)
    vehicles = customs[0]
    assert vehicles.fully_qualified_name == f"p{small.portal_id}_vehicles"
    for ref in ("contacts", "CONTACT", "0-1", "Contacts"):
        assert small.resolve_type(ref).type_id == "0-1"  # type: ignore[union-attr]
    for ref in ("vehicles", "vehicle", vehicles.type_id, vehicles.fully_qualified_name.upper()):
        assert small.resolve_type(ref) == vehicles
    assert small.resolve_type("line_items").type_id == "0-8"  # type: ignore[union-attr]
    assert small.resolve_type("nope") is None


def test_property_definitions_have_every_field_and_types(small: Account) -> None:
    required = {"name", "label", "type", "fieldType", "groupName", "description", "options", "displayOrder",
                "calculated", "hasUniqueValue", "hidden", "hubspotDefined", "formField", "archived", "createdAt",
                "updatedAt", "modificationMetadata"}  # fmt: skip
    props = small.property_definitions("0-1")
    assert 250 <= len(props) <= 400
    assert all(required <= p.keys() for p in props)
    assert {p["type"] for p in props} >= {"string", "number", "date", "datetime", "enumeration", "bool"}
    names = {p["name"] for p in props}
    assert {"hs_object_id", "createdate", "lastmodifieddate", "email", "firstname", "lastname"} <= names
    assert any(p["calculated"] for p in props) and any(not p["hubspotDefined"] for p in props)
    enum = next(p for p in props if p["name"] == "lifecyclestage")
    assert {"label", "value", "hidden", "description", "displayOrder"} <= enum["options"][0].keys()
    archived = small.property_definitions("0-1", archived=True)
    assert archived and all(p["archived"] and "archivedAt" in p for p in archived)
    assert not names & {p["name"] for p in archived}
    for type_id in STANDARD[1:]:
        names = {p["name"] for p in small.property_definitions(type_id)}
        assert {"hs_object_id", "createdate", "hs_lastmodifieddate"} <= names, type_id
    assert {"dealname", "amount", "closedate", "pipeline", "dealstage"} <= {
        p["name"] for p in small.property_definitions("0-3")
    }


def test_wide_deals_carry_more_than_900_properties() -> None:
    wide = Account(seed=1, scale="tiny", start_date=START, wide=True)
    props = wide.property_definitions("deals")
    assert len(props) >= 900
    rid = wide.record_ids("0-3", archived=False, after=None, limit=1)[0]
    view = wide.record("0-3", rid, [p["name"] for p in props])
    assert view is not None and len(view.properties) == len(props)


def test_schemas_describe_custom_types(small: Account) -> None:
    schemas = small.schemas()
    assert [s["name"] for s in schemas] == ["vehicles", "shipments"]
    s = schemas[0]
    assert s["fullyQualifiedName"] == f"p{small.portal_id}_vehicles"
    assert s["primaryDisplayProperty"] == "vehicle_name" and s["requiredProperties"] == ["vehicle_name"]
    assert {p["name"] for p in s["properties"]} >= {"vehicle_name", "vin", "hs_object_id"}
    targets = {a["toObjectTypeId"] for a in s["associations"]}
    assert targets == {"0-1", "0-2", schemas[1]["objectTypeId"]}
    assert all(a["fromObjectTypeId"] == s["objectTypeId"] for a in s["associations"])


# --- records and history -------------------------------------------------------------------------


def test_ids_ascending_distinct_and_paging(small: Account) -> None:
    ids = small.record_ids("0-1", archived=False, after=None, limit=5000)
    assert ids == sorted(set(ids)) and 1900 < len(ids) < 2000
    assert small.record_ids("0-1", archived=False, after=ids[99], limit=100) == ids[100:200]
    archived = small.record_ids("0-1", archived=True, after=None, limit=5000)
    assert archived and not set(archived) & set(ids)
    view = small.record("0-1", archived[0], None)
    assert view is not None and view.archived and view.archived_at is not None
    assert small.record("0-1", 5, None) is None


def test_default_and_requested_properties(small: Account) -> None:
    rid = small.record_ids("0-3", archived=False, after=None, limit=1)[0]
    view = small.record("0-3", rid, None)
    assert view is not None
    assert set(view.properties) == {"dealname", "amount", "closedate", "pipeline", "dealstage", "createdate",
                                    "hs_object_id", "hs_lastmodifieddate"}  # fmt: skip
    assert view.properties["hs_object_id"] == str(rid)
    asked = small.record("0-3", rid, ["dealname", "no_such_property", "old_field_1"])
    assert asked is not None and list(asked.properties) == ["dealname"]


def test_history_invariants(small: Account) -> None:
    counts: Counter[int] = Counter()
    for type_id, cap in (("0-1", 45), ("0-3", 20), ("0-46", 20)):
        specs = small.registry(type_id).live
        lm = lastmod(small, type_id)
        for view in itertools.islice(small.all_records(type_id), 150):
            assert view.properties[lm] == iso_ms(view.updated_ms)
            assert view.properties["createdate"] == iso_ms(view.created_ms)
            newest = 0
            for name, hist in view.history.items():
                assert len(hist) <= cap
                if not hist:
                    assert view.properties[name] is None
                    continue
                counts[len(hist)] += 1
                stamps = [ms(h["timestamp"]) for h in hist]
                assert stamps == sorted(stamps, reverse=True), name
                assert hist[0]["value"] == view.properties[name]
                assert stamps[-1] >= view.created_ms
                assert {"value", "timestamp", "sourceType"} <= hist[0].keys()
                assert all(isinstance(h["value"], str) for h in hist)
                if not specs[name].calculated:
                    assert stamps[0] <= view.updated_ms, name
                    newest = max(newest, stamps[0])
            assert newest == view.updated_ms
    assert counts[1] > counts[2] > counts[3] > 0
    assert any(n > 20 for n in counts)  # a few properties have long histories


def test_values_are_strings_formatted_like_hubspot(small: Account) -> None:
    specs = small.registry("0-3").live
    seen: set[str] = set()
    for view in itertools.islice(small.all_records("0-3"), 200):
        for name, value in view.properties.items():
            if value is None:
                continue
            assert isinstance(value, str)
            t = specs[name].type
            if t == "number":
                float(value)
                assert not value.endswith(".0")
            elif t == "datetime":
                assert len(value) == 24 and value.endswith("Z") and value[10] == "T"
            elif t == "date":
                dt.date.fromisoformat(value)
            elif t == "bool":
                assert value in ("true", "false")
            elif t == "enumeration" and specs[name].options and specs[name].field_type != "checkbox":
                assert value in specs[name].option_values
            seen.add(t)
    assert seen >= {"number", "datetime", "bool", "enumeration", "string"}


def test_properties_are_sparse(small: Account) -> None:
    views = list(itertools.islice(small.all_records("0-1"), 100))
    filled = sum(v is not None for view in views for v in view.properties.values())
    total = sum(len(view.properties) for view in views)
    assert filled / total < 0.35


def test_hostile_values_present(small: Account) -> None:
    text_props = {
        type_id: [s.name for s in small.registry(type_id).live.values() if s.type == "string"]
        for type_id in ("0-1", "0-2", "0-46")
    }
    values = [
        v
        for type_id, names in text_props.items()
        for view in small.all_records(type_id, properties=names)
        for v in view.properties.values()
        if v
    ]
    assert any("\n" in v for v in values) and any("\r\n" in v for v in values)
    assert any("," in v for v in values) and any('"' in v for v in values) and any("\t" in v for v in values)
    assert any(any(ord(ch) > 0xFFFF for ch in v) for v in values)  # emoji
    assert any(v[0] in "=+-@" for v in values)
    assert sum(len(v) >= 100_000 for v in values) >= 3
    assert any(not v.isascii() for v in values)


def test_owners_pipelines_and_users_resolve(small: Account) -> None:
    live, archived = small.owners(False), small.owners(True)
    assert archived and all(o["userId"] is None and o["userIdIncludingInactive"] for o in archived)
    assert all(o["userId"] == o["userIdIncludingInactive"] for o in live)
    owner_ids = {o["id"] for o in live + archived}
    team_ids = {t["id"] for t in small.teams()}
    assert all(t["id"] in team_ids for o in live for t in o["teams"])
    assert sum(t["primary"] for o in live for t in o["teams"]) == sum(bool(o["teams"]) for o in live)
    user_ids = {u["id"] for u in small.users()}
    assert user_ids == {str(o["userId"]) for o in live}
    assert all(set(t["userIds"]) | set(t["secondaryUserIds"]) <= user_ids for t in small.teams())
    deal_stages = {p["id"]: {s["id"] for s in p["stages"]} for p in small.pipelines("deals")}
    ticket_stages = {p["id"]: {s["id"] for s in p["stages"]} for p in small.pipelines("tickets")}
    assert small.pipelines("deals")[0]["stages"][0]["metadata"] == {"isClosed": "false", "probability": "0.2"}
    assert small.pipelines("tickets")[0]["stages"][0]["metadata"] == {"ticketState": "OPEN"}
    assert small.pipelines("contacts") == []
    owners_used = 0
    for view in small.all_records("0-3", properties=["dealstage", "pipeline", "hubspot_owner_id"]):
        assert view.properties["dealstage"] in deal_stages[view.properties["pipeline"]]
        if view.properties["hubspot_owner_id"]:
            assert view.properties["hubspot_owner_id"] in owner_ids
            owners_used += 1
    assert owners_used > 100
    for view in small.all_records("0-5", properties=["hs_pipeline", "hs_pipeline_stage"]):
        assert view.properties["hs_pipeline_stage"] in ticket_stages[view.properties["hs_pipeline"]]


# --- associations --------------------------------------------------------------------------------


def test_associations_symmetric_with_inverse_type_ids(small: Account) -> None:
    checked = 0
    for from_type, to_type in small.association_pairs():
        inverse_of = {}
        fwd_labels = small.association_labels(from_type, to_type)
        inv_labels = small.association_labels(to_type, from_type)
        assert len(fwd_labels) == len(inv_labels)
        for f, i in zip(fwd_labels, inv_labels, strict=True):
            inverse_of[f["typeId"]] = i["typeId"]
        for rid in small.record_ids(from_type, archived=False, after=None, limit=15):
            for to_id, types in small.associations(from_type, rid, to_type):
                back = dict(small.associations(to_type, to_id, from_type))
                assert rid in back, (from_type, rid, to_type, to_id)
                if from_type != to_type:
                    assert sorted(inverse_of[t["typeId"]] for t in types) == sorted(
                        t["typeId"] for t in back[rid]
                    )
                assert types[0]["label"] is None  # the unlabeled default is always present
                checked += 1
    assert checked > 500


def test_default_type_ids_primary_labels_and_hubs(small: Account) -> None:
    labels = {
        (x["category"], x["typeId"], x["label"]) for x in small.association_labels("contacts", "companies")
    }
    assert ("HUBSPOT_DEFINED", 279, None) in labels and ("HUBSPOT_DEFINED", 1, "Primary") in labels
    assert any(c == "USER_DEFINED" for c, _, _ in labels)
    assert {x["typeId"] for x in small.association_labels("notes", "contacts")} == {202}
    assert {x["typeId"] for x in small.association_labels("contacts", "notes")} == {201}
    assert {x["typeId"] for x in small.association_labels("deals", "companies")} >= {341, 5}
    primaries = Counter()
    for rid in small.record_ids("0-1", archived=False, after=None, limit=2000):
        for _, types in small.associations("0-1", rid, "0-2"):
            primaries[rid] += any(t["typeId"] == 1 for t in types)
    assert max(primaries.values()) == 1 and sum(primaries.values()) > 1000
    hub = small.record_ids("0-2", archived=False, after=None, limit=1)[0]
    assert len(small.associations("0-2", hub, "0-1")) > 500
    assert any(
        t["category"] == "USER_DEFINED" for _, ts in small.associations("0-2", hub, "0-1") for t in ts
    ) or any(
        t["category"] == "USER_DEFINED"
        for rid in small.record_ids("0-1", archived=False, after=None, limit=500)
        for _, ts in small.associations("0-1", rid, "0-2")
        for t in ts
    )
    assert small.associations("0-7", 1, "0-1") == []


def test_no_association_touches_an_archived_record(small: Account) -> None:
    for rid in small.record_ids("0-1", archived=True, after=None, limit=100):
        for to_type in ("0-2", "0-3", "0-46"):
            assert small.associations("0-1", rid, to_type) == []


# --- lists and events ----------------------------------------------------------------------------


def test_lists_and_memberships(small: Account) -> None:
    lists = small.lists()
    assert {x["processingType"] for x in lists} == {"MANUAL", "DYNAMIC", "SNAPSHOT"}
    fields = {"listId", "name", "objectTypeId", "processingType", "processingStatus", "listVersion", "createdAt",
              "updatedAt", "filtersUpdatedAt", "additionalProperties"}  # fmt: skip
    assert all(fields <= x.keys() for x in lists)
    big = lists[0]
    members = small.list_memberships(int(big["listId"]))
    assert len(members) > 250 and big["additionalProperties"]["hs_list_size"] == str(len(members))
    ids = [m[0] for m in members]
    assert ids == sorted(ids)
    assert small.list_memberships(int(big["listId"]), after=ids[9], limit=5) == members[10:15]
    for rid, stamp in members[:50]:
        view = small.record(big["objectTypeId"], rid, [])
        assert view is not None and not view.archived and view.created_ms <= ms(stamp) < small.now_ms
    with pytest.raises(KeyError):
        small.list_memberships(999_999)


def test_events_match_activity_timestamps(small: Account) -> None:
    assert {"e_visited_page", "e_opened_email", "e_clicked_link_in_email", "e_submitted_form"} <= set(
        small.event_types()
    )
    defs = small.event_definitions()
    assert len(defs) == 3 and all(d["fullyQualifiedName"].startswith(f"pe{small.portal_id}_") for d in defs)
    assert all(d["objectTypeId"].startswith("6-") and d["properties"] for d in defs)
    with_events = 0
    for rid in small.record_ids("0-1", archived=False, after=None, limit=300):
        occ = small.events("0-1", rid)
        view = small.record("0-1", rid, ["hs_analytics_last_visit_timestamp", "hs_last_activity_timestamp",
                                         "hs_email_last_open_date"])  # fmt: skip
        assert view is not None
        stamps = [ms(o["occurredAt"]) for o in occ]
        assert stamps == sorted(stamps)
        visits = [o["occurredAt"] for o in occ if o["eventType"] == "e_visited_page"]
        opens = [o["occurredAt"] for o in occ if o["eventType"] == "e_opened_email"]
        assert view.properties["hs_analytics_last_visit_timestamp"] == (visits[-1] if visits else None)
        assert view.properties["hs_email_last_open_date"] == (opens[-1] if opens else None)
        assert view.properties["hs_last_activity_timestamp"] == (occ[-1]["occurredAt"] if occ else None)
        if occ:
            with_events += 1
            o = occ[0]
            assert o["objectId"] == str(rid) and o["objectType"] == "CONTACT"
            assert all(isinstance(v, str) for v in o["properties"].values())
            assert max(stamps) <= view.updated_ms
            since = dt.datetime.fromisoformat(o["occurredAt"].replace("Z", "+00:00"))
            window = small.events("0-1", rid, event_type=o["eventType"], occurred_after=since)
            assert window[0] == o and all(w["eventType"] == o["eventType"] for w in window)
            assert small.events("0-1", rid, occurred_before=since) == []
    assert with_events > 100


def test_account_details(small: Account) -> None:
    details = small.account_details()
    assert details["portalId"] == small.portal_id and details["timeZone"]
    assert {
        "accountType",
        "companyCurrency",
        "utcOffsetMilliseconds",
        "uiDomain",
        "dataHostingLocation",
    } <= details.keys()


# --- the day of changes --------------------------------------------------------------------------


def _diff_ids(before: Account, after: Account, type_id: str) -> tuple[list[int], list[int]]:
    old = set(before.record_ids(type_id, archived=False, after=None, limit=10**6))
    new_live = after.record_ids(type_id, archived=False, after=None, limit=10**6)
    newly_archived = [
        i for i in after.record_ids(type_id, archived=True, after=None, limit=10**6) if i in old
    ]
    return [i for i in new_live if i not in old], newly_archived


def test_clock_moves_to_next_midnights(tiny_week: tuple[Account, Account]) -> None:
    before, after = tiny_week
    assert before.now == dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert after.now == dt.datetime(2026, 11, 7, tzinfo=dt.UTC) and after.days_advanced == 6
    for type_id in ("0-1", "0-3"):
        for view in after.all_records(type_id):
            assert view.updated_ms < after.now_ms and view.created_ms < after.now_ms


def test_creates_and_archive_tombstones(tiny_week: tuple[Account, Account]) -> None:
    before, after = tiny_week
    created, archived = _diff_ids(before, after, "0-1")
    assert len(created) >= 6 and len(archived) >= 6
    assert min(created) > max(before.record_ids("0-1", archived=False, after=None, limit=10**6))
    for rid in created:
        view = after.record("0-1", rid, None)
        assert view is not None and before.now_ms <= view.created_ms < after.now_ms
    for rid in archived:
        view = after.record("0-1", rid, None)
        assert view is not None and view.archived and before.now_ms <= view.archived_ms < after.now_ms
        assert view.updated_ms == view.archived_ms
        assert after.associations("0-1", rid, "0-2") == []


def test_updates_bump_modified_and_keep_history(tiny_week: tuple[Account, Account]) -> None:
    before, after = tiny_week
    lm = lastmod(after, "0-1")
    updated = changed = 0
    for view in after.all_records("0-1", include_archived=False):
        old = before.record("0-1", view.id, list(view.properties), [lm])
        if old is None or old.updated_ms == view.updated_ms:
            continue
        updated += 1
        assert view.updated_ms > old.updated_ms >= 0
        assert view.history[lm][0]["value"] == iso_ms(view.updated_ms)
        kept = [h for h in view.history[lm] if ms(h["timestamp"]) < before.now_ms]
        assert kept and kept == old.history[lm][: len(kept)]  # new entries are prepended, old ones kept
        # the write that bumped updatedAt left a history entry at that instant on some other property
        written = [
            n for n, h in view.history.items() if n != lm and h and ms(h[0]["timestamp"]) == view.updated_ms
        ]
        assert written
        changed += any(view.properties[n] != old.properties[n] for n in written)
    assert updated >= 12 and changed >= 10


def test_merge_marks_survivor(tiny_week: tuple[Account, Account]) -> None:
    _, after = tiny_week
    survivors = [
        v for v in after.all_records("0-1", include_archived=False) if v.properties["hs_merged_object_ids"]
    ]
    assert survivors
    for view in survivors:
        for merged in view.properties["hs_merged_object_ids"].split(";"):
            gone = after.record("0-1", int(merged), [])
            assert gone is not None and gone.archived
        hist = view.history["hs_merged_object_ids"]
        assert ms(hist[0]["timestamp"]) <= view.updated_ms


def test_calculated_change_leaves_modified_date_alone(tiny_week: tuple[Account, Account]) -> None:
    _, after = tiny_week
    silent = 0
    for type_id in ("0-1", "0-2", "0-3"):
        calculated = [s.name for s in after.registry(type_id).calculated()]
        for view in after.all_records(type_id, include_archived=False):
            newest = max(
                (ms(h[0]["timestamp"]) for n, h in view.history.items() if n in calculated and h), default=0
            )
            if newest > view.updated_ms:
                silent += 1
                entry = next(
                    h[0]
                    for n, h in view.history.items()
                    if n in calculated and h and ms(h[0]["timestamp"]) == newest
                )
                assert entry["sourceType"] == "CALCULATED"
    assert silent >= 3


def test_association_changes_leave_modified_date_alone() -> None:
    acct = Account(seed=5, scale="tiny", start_date=START)
    before = {
        (a, b, rid): (set(dict(acct.associations(a, rid, b))), acct.record(a, rid, []).updated_ms)  # type: ignore[union-attr]
        for a, b in acct.association_pairs()
        for rid in acct.record_ids(a, archived=False, after=None, limit=10**6)
    }
    acct.advance(days=1)
    start = acct.now_ms - DAY_MS
    moved_only = 0
    for (a, b, rid), (old_links, old_updated) in before.items():
        view = acct.record(a, rid, [])
        assert view is not None
        new_links = set(dict(acct.associations(a, rid, b)))
        if new_links != old_links and view.updated_ms == old_updated:
            moved_only += 1  # associations changed, modified date did not
        if view.updated_ms != old_updated:
            assert view.updated_ms >= start
    assert moved_only >= 10


def test_list_membership_changes(tiny_week: tuple[Account, Account]) -> None:
    before, after = tiny_week
    changed = 0
    for old, new in zip(before.lists(), after.lists(), strict=True):
        old_m = set(before.list_memberships(int(old["listId"])))
        new_m = set(after.list_memberships(int(new["listId"])))
        if old["processingType"] == "SNAPSHOT":
            assert {m[0] for m in new_m} <= {m[0] for m in old_m}  # only archived records leave it
        elif old_m != new_m:
            changed += 1
            assert new["additionalProperties"]["hs_list_size"] == str(len(new_m))
            added = new_m - old_m
            assert all(before.now_ms <= ms(stamp) < after.now_ms for _, stamp in added)
    assert changed >= 2


def test_new_events_bump_activity_and_modified(tiny_week: tuple[Account, Account]) -> None:
    before, after = tiny_week
    fresh = 0
    for rid in after.record_ids("0-1", archived=False, after=None, limit=10**6):
        occ = after.events("0-1", rid, occurred_after=before.now)
        if not occ:
            continue
        fresh += 1
        view = after.record("0-1", rid, ["hs_last_activity_timestamp"])
        assert view is not None
        assert view.properties["hs_last_activity_timestamp"] == after.events("0-1", rid)[-1]["occurredAt"]
        assert view.updated_ms >= ms(occ[-1]["occurredAt"])
    assert fresh >= 6


def test_type_wide_events_are_every_records_events(tiny_week: tuple[Account, Account]) -> None:
    """`type_events` (the objectType-only query) is the union of every record's own read, in time order,
    for the whole history and for a window of the advanced days, and the event-type filter narrows it."""
    before, after = tiny_week
    for type_id in ("0-1", "0-2"):
        for lo, hi in ((None, None), (before.now, after.now)):
            per_record = sorted(
                (ms(o["occurredAt"]), int(o["objectId"]), o["id"])
                for rid in after.tables[type_id].ids.tolist()
                for o in after.events(type_id, rid, occurred_after=lo, occurred_before=hi)
            )
            wide = after.type_events(type_id, None, lo, hi)
            assert [(ts, rid) for ts, rid, *_ in wide] == [(ts, rid) for ts, rid, _ in per_record]
            formatted = {
                after.event_catalog.occurrence(type_id, rid, seed, ts, kind, serial)["id"]
                for ts, rid, seed, kind, serial in wide
            }
            assert formatted == {i for *_, i in per_record}
            assert len(wide) > 0 if type_id == "0-1" else True
    visits = after.type_events("0-1", "e_visited_page", before.now, after.now)
    assert visits and all(kind == "e_visited_page" for *_, kind, _ in visits)
    assert after.type_events("0-3") == [], "deals carry no events"


def test_bulk_update_shares_one_timestamp(tiny_week: tuple[Account, Account]) -> None:
    _, after = tiny_week
    day_start = after.now_ms - DAY_MS  # the bulk of the last advanced day, between 13:00 and 14:00
    views = list(after.all_records("0-1", include_archived=False, properties=["hs_lead_status"]))
    stamps = Counter(v.updated_ms for v in views if 13 <= (v.updated_ms - day_start) // 3_600_000 < 14)
    last_instant, shared = stamps.most_common(1)[0]
    assert shared == 25
    bulk = [v for v in views if v.updated_ms == last_instant]
    for view in bulk:
        newest = view.history["hs_lead_status"][0]
        assert (
            ms(newest["timestamp"]) == last_instant and newest["value"] == view.properties["hs_lead_status"]
        )
    assert len({v.properties["hs_lead_status"] for v in bulk}) == 1


def test_schema_drift_new_property_and_custom_object(tiny_week: tuple[Account, Account]) -> None:
    before, after = tiny_week
    added = {p["name"] for p in after.property_definitions("0-1")} - {
        p["name"] for p in before.property_definitions("0-1")
    }
    assert added == {"sandbox_added_day_2"}
    new_types = [t for t in after.object_types() if before.resolve_type(t.type_id) is None]
    assert [t.name for t in new_types] == ["projects"]
    ids = after.record_ids(new_types[0].type_id, archived=False, after=None, limit=100)
    assert ids and after.schema(new_types[0].type_id)["name"] == "projects"
    assert any(after.associations(new_types[0].type_id, rid, "0-1") for rid in ids)


# --- search --------------------------------------------------------------------------------------


def _search(acct: Account, type_id: str, filters: list[dict], **kw: object) -> tuple[int, list[int]]:
    groups = [{"filters": filters}] if filters else []
    return acct.search(type_id, groups, kw.get("sorts", []), kw.get("query"), kw.get("after", 0), kw.get("limit", 10_000),
                       kw.get("lag_seconds", 0))  # type: ignore[arg-type]  # fmt: skip


def test_search_incremental_filters_and_sorts(small: Account) -> None:
    lm = lastmod(small, "0-1")
    truth = {v.id: v for v in small.all_records("0-1", include_archived=False, properties=[])}
    cut = sorted(v.updated_ms for v in truth.values())[len(truth) // 2]
    total, ids = _search(small, "0-1", [{"propertyName": lm, "operator": "GTE", "value": str(cut)}],
                         sorts=[{"propertyName": lm, "direction": "ASCENDING"}])  # fmt: skip
    expected = sorted((v.updated_ms, v.id) for v in truth.values() if v.updated_ms >= cut)
    assert total == len(expected) and ids == [i for _, i in expected]
    pivot = ids[0]
    total, ids = _search(small, "0-1", [{"propertyName": "hs_object_id", "operator": "GT", "value": str(pivot)}],
                         limit=20)  # fmt: skip
    above = sorted(i for i in truth if i > pivot)
    assert ids == above[:20] and total == len(above)
    lo, hi = (
        sorted(v.created_ms for v in truth.values())[100],
        sorted(v.created_ms for v in truth.values())[300],
    )
    total, ids = _search(small, "0-1", [{"propertyName": "createdate", "operator": "BETWEEN", "value": str(lo),
                                         "highValue": str(hi)}])  # fmt: skip
    assert ids == sorted(i for i, v in truth.items() if lo <= v.created_ms <= hi) and total == len(ids)
    desc = _search(
        small, "0-1", [], sorts=[{"propertyName": "createdate", "direction": "DESCENDING"}], limit=5
    )[1]
    assert [truth[i].created_ms for i in desc] == sorted(
        (v.created_ms for v in truth.values()), reverse=True
    )[:5]


def test_search_general_operators_groups_and_paging(small: Account) -> None:
    names = ["lifecyclestage", "phone", "city", "email", "lastname"]
    truth = {v.id: v.properties for v in small.all_records("0-1", include_archived=False, properties=names)}

    def ids_where(pred) -> list[int]:
        return sorted(i for i, p in truth.items() if pred(p))

    customers = ids_where(lambda p: p["lifecyclestage"] == "customer")
    assert (
        _search(small, "0-1", [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"}])[1]
        == customers
    )
    assert (
        _search(small, "0-1", [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "CUSTOMER"}])[0]
        == 0
    )
    either = ids_where(lambda p: p["lifecyclestage"] in ("lead", "customer"))
    groups = [
        {"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": v}]}
        for v in ("lead", "customer")
    ]
    assert small.search("0-1", groups, [], None, 0, 10_000)[1] == either
    both = _search(small, "0-1", [{"propertyName": "lifecyclestage", "operator": "IN", "values": ["lead", "customer"]},
                                  {"propertyName": "phone", "operator": "HAS_PROPERTY"}])[1]  # fmt: skip
    assert both == [i for i in either if truth[i]["phone"]]
    no_city = _search(small, "0-1", [{"propertyName": "city", "operator": "NOT_HAS_PROPERTY"}])[1]
    assert no_city == ids_where(lambda p: not p["city"])
    domain = truth[customers[0]]["email"].split("@")[1]
    tok = _search(
        small, "0-1", [{"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": f"*@{domain}"}]
    )[1]
    assert customers[0] in tok and all(truth[i]["email"].endswith("@" + domain) for i in tok)
    total, page = _search(small, "0-1", [], after=200, limit=100)
    assert total == len(truth) and page == sorted(truth)[200:300]
    hits = _search(small, "0-1", [], query=truth[customers[0]]["lastname"])[1]
    assert customers[0] in hits
    company = small.record_ids("0-2", archived=False, after=None, limit=1)[0]
    linked = _search(
        small, "0-1", [{"propertyName": "associations.company", "operator": "EQ", "value": str(company)}]
    )[1]
    assert linked == [i for i, _ in small.associations("0-2", company, "0-1")]
    for bad in ({"propertyName": "nope", "operator": "EQ", "value": "x"},
                {"propertyName": "email", "operator": "LIKE", "value": "x"},
                {"propertyName": "email", "operator": "IN"}):  # fmt: skip
        with pytest.raises(SearchError):
            _search(small, "0-1", [bad])


def test_search_excludes_archived_and_honours_lag() -> None:
    acct = Account(seed=9, scale="tiny", start_date=START)
    acct.advance(days=1)
    lm = lastmod(acct, "0-1")
    start = acct.now_ms - DAY_MS
    everyone = _search(acct, "0-1", [])[1]
    assert set(everyone) == set(acct.record_ids("0-1", archived=False, after=None, limit=10**6))
    fresh = [v for v in acct.all_records("0-1", include_archived=False) if v.created_ms >= start]
    touched = [v for v in acct.all_records("0-1") if v.updated_ms >= start and v.created_ms < start]
    assert fresh and touched
    lagged = _search(acct, "0-1", [], lag_seconds=86_400)[1]
    assert not {v.id for v in fresh} & set(lagged)  # new records are not searchable yet
    archived_today = [v.id for v in touched if v.archived]
    assert set(archived_today) <= set(lagged)  # still visible in their pre-lag (live) state
    since = [{"propertyName": lm, "operator": "GTE", "value": str(start)}]
    assert set(_search(acct, "0-1", since)[1]) == {v.id for v in fresh + touched if not v.archived}
    assert _search(acct, "0-1", since, lag_seconds=86_400)[0] == 0  # today's writes not indexed yet
    cutoff = acct.now_ms - 43_200_000
    half = _search(acct, "0-1", since, lag_seconds=43_200)[1]
    expected = set()
    for v in acct.all_records("0-1"):
        if v.created_ms > cutoff or (v.archived_ms is not None and v.archived_ms <= cutoff):
            continue
        seen = [ms(h["timestamp"]) for h in v.history[lm] if ms(h["timestamp"]) <= cutoff]
        if seen and seen[0] >= start:
            expected.add(v.id)
    assert expected and set(half) == expected


@pytest.mark.slow
def test_large_constructs_and_reads_a_record() -> None:
    acct = Account(seed=1, scale="large", start_date=START)
    assert len(acct.tables["0-1"]) == 1_000_000 and len(acct.tables["0-2"]) == 300_000
    rid = acct.record_ids("0-1", archived=False, after=900_000, limit=1)[0]
    view = acct.record("0-1", rid, ["email", "lifecyclestage"], ["lifecyclestage"])
    assert view is not None and view.properties["email"].split("@")[0].endswith(str(rid))
    total, ids = acct.search("0-1", [{"filters": [{"propertyName": "hs_object_id", "operator": "GT", "value": str(rid)}]}],
                             [], None, 0, 5)  # fmt: skip
    assert ids[0] > rid and total > 10_000
