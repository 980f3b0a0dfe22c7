"""Sync settings (HUBSPOT_SYNC_SETTINGS) against the sandbox: what is fetched, what is exported.

A tiny account is synced and exported once with contacts filtered to those with an email, one
contact property excluded and one renamed, and companies not synced; the tables, the index's Parquet
segments and the calls the sync made are compared with the sandbox's own records. The parse and
account errors are checked against the same account's definitions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import LocalDestination, read_manifest, read_table
from hubspot_pipeline.sync.definitions import present_types
from hubspot_pipeline.sync.full_sync import sync_plan
from hubspot_pipeline.sync.index import load_manifest
from hubspot_pipeline.sync.index_reader import AsOfBatch
from hubspot_pipeline.sync.index_sync import sync_index
from hubspot_pipeline.sync.selection import Selection, SyncSettingsError, load_selection, parse_selection
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.export import ExportOutcome, export_spec
from hubspot_pipeline.tables.registry import SPECS, SYNC_DEFINITION_TABLES
from hubspot_sandbox import Sandbox, SandboxConfig
from hubspot_sandbox.model.catalog import CONTACTS

pytestmark = pytest.mark.slow

TOKEN = "pat-selection"
START = date(2026, 3, 1)
DAY = START  # the sandbox is advanced over it: creates, updates, list changes and events
DEFINITIONS = SYNC_DEFINITION_TABLES
TABLES = (
    "OBJECTS",
    "OBJECT_WITH_OBJECT_PROPERTIES",
    "OBJECT_PROPERTIES",
    "OBJECT_PROPERTIES_HISTORY",
    "ASSOCIATIONS",
    "LISTS",
    "LIST_MEMBERSHIPS",
    "EVENTS",
    "SYNC_HEALTH",
)
CONTACTS_ID, COMPANIES_ID = "0-1", "0-2"
EXCLUDED, RENAMED, NEW_NAME = "phone", "firstname", "first_name"
SETTINGS: dict[str, Any] = {
    "object_types": {
        "contacts": {
            "properties": {"exclude": [EXCLUDED]},
            "rename": {RENAMED: NEW_NAME},
            "records": [{"property": "email", "operator": "HAS_PROPERTY"}],
        },
        "companies": {"sync": False},
    }
}


@dataclass
class Run:
    sb: Sandbox
    dest: LocalDestination
    ctx: ExportContext
    requests: list[tuple[str, str, Any]]  # (method, path, body) of every call the sync made
    outcomes: dict[str, ExportOutcome]

    def table(self, name: str) -> pa.Table:
        return read_table(self.dest, DAY.isoformat(), name)

    def definitions(self) -> tuple[list, dict[str, list[dict]]]:
        properties = self.ctx.snapshot("properties").data
        return present_types(self.ctx.snapshot("schemas").data, properties), properties


def recording(client: HubSpotClient, into: list[tuple[str, str, Any]]) -> HubSpotClient:
    """The client, noting every request (get, post and the pagers all go through `request`)."""
    request = client.request

    def noted(method: str, path: str, **kwargs: Any) -> Any:
        into.append((method, path, kwargs.get("body")))
        return request(method, path, **kwargs)

    client.request = noted  # type: ignore[method-assign]
    return client


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    with Sandbox(SandboxConfig(seed=3, scale="tiny", token=TOKEN, start_date=START)) as sb:
        sb.advance(days=1)
        dest = LocalDestination(tmp_path_factory.mktemp("selection"))
        requests: list[tuple[str, str, Any]] = []
        client = HubSpotClient(sb.base_url, TOKEN, rate_limit_per_10s=100_000, sleep=lambda _: None)
        selection = parse_selection(json.dumps(SETTINGS), "test settings")
        ctx = ExportContext(DAY, dest, "select01", lambda: client, selection=selection)
        outcomes = {name: export_spec(ctx, SPECS[name]) for name in DEFINITIONS}
        plan = sync_plan(
            *(ctx.snapshot(s).data for s in ("schemas", "properties", "association_labels")),
            selection=selection,
        )
        recording(client, requests)
        sync_index(dest, ctx.as_of, ctx.run_id, lambda: client, lambda: plan)
        syncs = list(requests)
        outcomes |= {name: export_spec(ctx, SPECS[name]) for name in TABLES}
        yield Run(sb, dest, ctx, syncs, outcomes)


# -- ground truth -----------------------------------------------------------------------------------


def live_contacts(sb: Sandbox) -> dict[str, dict[str, str | None]]:
    """Every live contact at the end of the day (the sandbox stands there): id -> properties."""
    names = [p["name"] for p in sb.account.property_definitions(CONTACTS_ID)]
    return {
        str(r.id): r.properties
        for r in sb.account.all_records(CONTACTS_ID, include_archived=False, properties=names)
    }


def with_email(sb: Sandbox) -> set[str]:
    return {i for i, props in live_contacts(sb).items() if props.get("email") not in (None, "")}


def pairs(table: pa.Table, *cols: str) -> set[tuple]:
    return set(zip(*(table.column(c).to_pylist() for c in cols), strict=True))


# -- parsing and the account check ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"object_types": {"contacts": ', "invalid JSON at line 1, column 31"),
        ('{"objects": {}}', "unknown key 'objects'"),
        ('{"object_types": {"contacts": {"fields": []}}}', "object_types.contacts: unknown key 'fields'"),
        ('{"object_types": {"contacts": {"properties": {"only": ["email"]}}}}', "unknown key 'only'"),
        (
            '{"object_types": {"contacts": {"records": [{"property": "email", "operator": "LIKE"}]}}}',
            "unknown operator 'LIKE'",
        ),
        (
            '{"object_types": {"contacts": {"records": [{"property": "email", "operator": "EQ"}]}}}',
            'records[0]: EQ needs "value" (missing value)',
        ),
        (
            '{"object_types": {"contacts": {"records": [{"property": "x", "operator": "IN", "values": []}]}}}',
            "IN needs a non-empty list",
        ),
        (
            '{"object_types": {"contacts": {"records": [{"operator": "HAS_PROPERTY"}]}}}',
            'missing "property"',
        ),
        (
            '{"object_types": {"deals": {"properties": {"include": ["amount"], "exclude": ["x"]}}}}',
            "deals.properties: give either include or exclude, not both",
        ),
        ('{"object_types": {"0-7": {"sync": "no"}}}', "0-7.sync: expected true or false"),
        ('{"object_types": {"contacts": {"rename": {"firstname": "first name"}}}}', "'first name'"),
    ],
)
def test_shape_errors_name_what_to_fix(text: str, message: str) -> None:
    with pytest.raises(SyncSettingsError) as raised:
        parse_selection(text)
    assert message in str(raised.value)


def test_load_selection_reads_a_file_or_inline_json_at_call_time(tmp_path: Path) -> None:
    assert load_selection({}).selects_everything
    assert load_selection({"HUBSPOT_SYNC_SETTINGS": "  "}).selects_everything
    inline = load_selection({"HUBSPOT_SYNC_SETTINGS": json.dumps(SETTINGS)})
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(SETTINGS), encoding="utf-8")
    assert load_selection({"HUBSPOT_SYNC_SETTINGS": str(path)}).types == inline.types
    missing = tmp_path / "nope.json"
    with pytest.raises(SyncSettingsError, match=re.escape(f"cannot read the settings file '{missing}'")):
        load_selection({"HUBSPOT_SYNC_SETTINGS": str(missing)})
    path.write_text('{"object_types":\n  {"contacts": }}', encoding="utf-8")
    with pytest.raises(SyncSettingsError, match=r"settings.json\): invalid JSON at line 2, column 16"):
        load_selection({"HUBSPOT_SYNC_SETTINGS": str(path)})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"widgets": {"sync": False}}, "'widgets' matches no object type of the account; use a type id"),
        ({"contacts": {"properties": {"exclude": ["emial"]}}}, "'emial' is not a property of contacts"),
        (
            {"contacts": {"records": [{"property": "emial", "operator": "HAS_PROPERTY"}]}},
            "did you mean email",
        ),
        ({"0-1": {"rename": {"firstname": "name", "lastname": "NAME"}}}, "both renamed to 'NAME'"),
        ({"contact": {"rename": {"firstname": "LastName"}}}, "renamed to 'LastName', an existing property"),
        (
            {"contacts": {"properties": {"exclude": ["phone"]}, "rename": {"phone": "tel"}}},
            "'phone' is not exported",
        ),
        ({"contacts": {"sync": False}, "0-1": {"sync": False}}, "both name contacts (0-1)"),
    ],
)
def test_account_errors_name_what_to_fix(run: Run, settings: dict, message: str) -> None:
    types, definitions = run.definitions()
    selection = parse_selection(json.dumps({"object_types": settings}))
    with pytest.raises(SyncSettingsError) as raised:
        selection.check(types, definitions)
    assert message in str(raised.value)
    if "widgets" in message:
        assert "contacts (0-1)" in str(raised.value) and "vehicles (2-" in str(raised.value)


def test_a_filter_may_need_an_excluded_property_which_is_fetched_not_exported(run: Run) -> None:
    types, definitions = run.definitions()
    selection = parse_selection(
        json.dumps(
            {
                "object_types": {
                    "contacts": {
                        "properties": {"exclude": ["email"]},
                        "records": [{"property": "email", "operator": "HAS_PROPERTY"}],
                    },
                    "deals": {"properties": {"include": ["dealname", "amount"]}},
                }
            }
        )
    )
    selection.check(types, definitions)  # allowed
    plan = sync_plan(
        *(run.ctx.snapshot(s).data for s in ("schemas", "properties", "association_labels")),
        selection=selection,
    )
    contacts = next(t for t in types if t.type_id == CONTACTS_ID)
    assert "email" in plan.properties[CONTACTS_ID]
    assert "email" not in selection.exported(contacts, plan.properties[CONTACTS_ID])
    # deals: the two included, plus what the pipeline itself reads (the modified date for UPDATEDAT)
    assert {"dealname", "amount", "hs_lastmodifieddate"} <= set(plan.properties["0-3"])
    assert "dealstage" not in plan.properties["0-3"]


def test_an_invalid_setting_fails_before_anything_is_written(run: Run) -> None:
    bad = parse_selection('{"object_types": {"contacts": {"properties": {"exclude": ["emial"]}}}}')
    snapshots = [run.ctx.snapshot(s).data for s in ("schemas", "properties", "association_labels")]
    with pytest.raises(SyncSettingsError, match="did you mean email"):
        sync_plan(*snapshots, selection=bad)
    before = read_manifest(run.dest, DAY.isoformat(), "OBJECTS")
    ctx = ExportContext(DAY, run.dest, "badsel01", run.ctx.client_factory, selection=bad)
    with pytest.raises(SyncSettingsError, match="'emial' is not a property of contacts"):
        export_spec(ctx, SPECS["OBJECTS"])
    assert read_manifest(run.dest, DAY.isoformat(), "OBJECTS") == before


def test_type_keys_and_record_operators(run: Run) -> None:
    types, definitions = run.definitions()
    vehicles = next(t for t in types if t.name == "vehicles")
    by_fqn = parse_selection(json.dumps({"object_types": {vehicles.fully_qualified_name: {"sync": False}}}))
    by_fqn.check(types, definitions)
    assert not by_fqn.syncs(vehicles) and by_fqn.syncs(types[0])
    contacts = next(t for t in types if t.type_id == CONTACTS_ID)
    batch = AsOfBatch(
        records=pa.table({"object_id": pa.array([1, 2, 3, 4], pa.int64())}),
        values=pa.table(
            {
                "object_id": pa.array([1, 2, 3], pa.int64()),
                "name": ["lifecyclestage", "lifecyclestage", "lifecyclestage"],
                "value": ["lead", "customer", ""],  # an empty value counts as none
            }
        ),
        history=None,
    )
    cases = {
        '"operator": "HAS_PROPERTY"': [True, True, False, False],
        '"operator": "NOT_HAS_PROPERTY"': [False, False, True, True],
        '"operator": "EQ", "value": "lead"': [True, False, False, False],
        '"operator": "NEQ", "value": "lead"': [False, True, True, True],
        '"operator": "IN", "values": ["lead", "customer"]': [True, True, False, False],
        '"operator": "NOT_IN", "values": ["lead"]': [False, True, True, True],
    }
    for condition, expected in cases.items():
        text = f'{{"property": "lifecyclestage", {condition}}}'
        selection = parse_selection(f'{{"object_types": {{"contacts": {{"records": [{text}]}}}}}}')
        assert selection.keep(contacts, batch).tolist() == expected, condition
    both = parse_selection(
        '{"object_types": {"contacts": {"records": [{"property": "lifecyclestage", "operator": "HAS_PROPERTY"},'
        ' {"property": "lifecyclestage", "operator": "NEQ", "value": "lead"}]}}}'
    )
    assert both.keep(contacts, batch).tolist() == [False, True, False, False], "conditions are ANDed"


# -- the export with a selection -------------------------------------------------------------------------


def test_the_sandbox_has_contacts_without_an_email(run: Run) -> None:
    fill = next(p.fill for p in CONTACTS if p.name == "email")
    assert fill < 1.0
    assert len(live_contacts(run.sb)) - len(with_email(run.sb)) > 0


def test_every_blocking_check_passes(run: Run) -> None:
    checks = {(name, c.name): c.passed for name, o in run.outcomes.items() for c in o.checks}
    assert all(checks.values()), [k for k, ok in checks.items() if not ok]
    assert checks[("OBJECT_PROPERTIES", "values_match_history")]
    assert checks[("ASSOCIATIONS", "references_objects_via_toobjecttypeid_toobjectid")]
    assert checks[("LIST_MEMBERSHIPS", "references_objects")]
    assert checks[("EVENTS", "references_objects")]


def test_the_sync_makes_no_call_for_a_type_that_does_not_sync(run: Run) -> None:
    paths = [path for _, path, _ in run.requests]
    assert any(f"/objects/{CONTACTS_ID}" in p for p in paths)
    assert not [p for p in paths if COMPANIES_ID in p.split("/") or "companies" in p]
    bodies = [
        b for m, p, b in run.requests if p == f"/crm/v3/objects/{CONTACTS_ID}/batch/read" and b["inputs"]
    ]
    assert bodies
    for body in bodies:
        assert EXCLUDED not in body["properties"] and EXCLUDED not in body["propertiesWithHistory"]
        assert {"email", RENAMED} <= set(body["properties"])


def test_the_index_holds_no_value_of_the_excluded_property(run: Run) -> None:
    manifest = load_manifest(run.dest)
    assert not manifest.segments(COMPANIES_ID)
    assert all(COMPANIES_ID not in pair for pair in manifest.pairs())
    segments = [s for _, s in manifest.segments(CONTACTS_ID)]
    assert segments
    for segment in segments:
        history = pq.read_table(run.dest.root / segment.history, columns=["name"])
        names = set(history.column("name").to_pylist())
        assert (EXCLUDED not in names and {"email", RENAMED} <= names) or segment.history_rows == 0
        records = pq.read_table(run.dest.root / segment.records, columns=["properties"])
        assert all(EXCLUDED not in dict(p) for p in records.column("properties").to_pylist())


def test_objects_hold_exactly_the_contacts_with_an_email(run: Run) -> None:
    expected = with_email(run.sb)
    contacts = run.table("OBJECTS_CONTACTS")
    assert set(contacts.column("OBJECTID").to_pylist()) == expected
    assert contacts.num_rows == len(expected)
    objects = run.table("OBJECTS")
    assert {i for t, i in pairs(objects, "OBJECTTYPEID", "OBJECTID") if t == CONTACTS_ID} == expected
    assert COMPANIES_ID not in set(objects.column("OBJECTTYPEID").to_pylist())
    assert read_manifest(run.dest, DAY.isoformat(), "OBJECTS_COMPANIES") is None


def test_the_renamed_column_replaces_the_old_one_and_the_excluded_is_gone(run: Run) -> None:
    contacts = run.table("OBJECTS_CONTACTS")
    columns = contacts.column_names[5:]
    assert "PROPERTY_FIRST_NAME" in columns and "PROPERTY_EMAIL" in columns
    assert "PROPERTY_FIRSTNAME" not in columns and "PROPERTY_PHONE" not in columns
    exported = [c.removeprefix("PROPERTY_").lower() for c in columns]
    assert exported == sorted(exported), "columns stay sorted by the exported name"
    truth = live_contacts(run.sb)
    got = dict(pairs(contacts, "OBJECTID", "PROPERTY_FIRST_NAME"))
    assert got == {i: truth[i].get(RENAMED) for i in got}
    assert any(got.values())
    notes = " ".join(read_manifest(run.dest, DAY.isoformat(), "OBJECTS_CONTACTS")["notes"])
    assert "records filtered: email HAS_PROPERTY" in notes
    assert "1 property excluded" in notes and "1 renamed (firstname as first_name)" in notes
    objects_notes = " ".join(read_manifest(run.dest, DAY.isoformat(), "OBJECTS")["notes"])
    assert "not synced (sync settings): companies (0-2)" in objects_notes


def test_property_tables_write_the_new_name(run: Run) -> None:
    for name in ("OBJECT_PROPERTIES", "OBJECT_PROPERTIES_HISTORY"):
        table = run.table(name)
        names = {n for t, n in pairs(table, "OBJECTTYPEID", "NAME") if t == CONTACTS_ID}
        assert NEW_NAME in names and "email" in names, name
        assert RENAMED not in names and EXCLUDED not in names, name
        assert {i for t, i in pairs(table, "OBJECTTYPEID", "OBJECTID") if t == CONTACTS_ID} <= with_email(
            run.sb
        )
    owop = run.table("OBJECT_WITH_OBJECT_PROPERTIES")
    keys = set()
    for type_id, props in pairs(owop, "OBJECTTYPEID", "PROPERTIES"):
        if type_id == CONTACTS_ID:
            keys |= set(json.loads(props))
    assert NEW_NAME in keys and RENAMED not in keys and EXCLUDED not in keys


def test_no_association_touches_a_record_left_out(run: Run) -> None:
    left_out = set(live_contacts(run.sb)) - with_email(run.sb)
    links = run.table("ASSOCIATIONS")
    ends = pairs(links, "FROMOBJECTTYPEID", "FROMOBJECTID") | pairs(links, "TOOBJECTTYPEID", "TOOBJECTID")
    assert any(t == CONTACTS_ID for t, _ in ends)
    assert not {(t, i) for t, i in ends if t == COMPANIES_ID or (t == CONTACTS_ID and i in left_out)}


def kept(sb: Sandbox, type_id: str, object_id: str) -> bool:
    return type_id != COMPANIES_ID and (type_id != CONTACTS_ID or object_id in with_email(sb))


def test_memberships_and_events_are_those_of_the_records_kept(run: Run) -> None:
    sb, end = run.sb, "2026-03-02T00:00:00.000Z"
    every = {
        (x["listId"], x["objectTypeId"], str(rid))
        for x in sb.account.lists()
        if x["createdAt"] < end
        for rid, added in sb.account.list_memberships(int(x["listId"]))
        if added < end
    }
    expected = {m for m in every if kept(sb, m[1], m[2])}
    assert {m[1] for m in every - expected} == {CONTACTS_ID, COMPANIES_ID}, "memberships to leave out"
    assert pairs(run.table("LIST_MEMBERSHIPS"), "LISTID", "OBJECTTYPEID", "OBJECTID") == expected
    start, stop = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    events = {
        (e["id"], type_id, str(object_id))
        for type_id in (CONTACTS_ID, COMPANIES_ID)
        for object_id in sb.account.record_ids(type_id, archived=False, after=None, limit=10**9)
        for e in sb.account.events(type_id, object_id, occurred_after=start, occurred_before=stop)
    }
    expected_events = {e for e in events if kept(sb, e[1], e[2])}
    assert events - expected_events, "the day has events to leave out"
    assert pairs(run.table("EVENTS"), "ID", "OBJECTTYPEID", "OBJECTID") == expected_events


def test_sync_health_counts_the_filtered_contacts_as_excluded(run: Run) -> None:
    health = {
        (t, s): int(n)
        for t, s, n in zip(
            *(run.table("SYNC_HEALTH").column(c).to_pylist() for c in ("OBJECTTYPEID", "STATE", "RECORDS")),
            strict=True,
        )
        if s != "UNAVAILABLE"
    }
    live, kept = len(live_contacts(run.sb)), len(with_email(run.sb))
    assert health[(CONTACTS_ID, "EXCLUDED")] == live - kept > 0
    assert health[(CONTACTS_ID, "SYNCED")] == kept
    assert health[(CONTACTS_ID, "SYNCED")] + health[(CONTACTS_ID, "EXCLUDED")] == live
    assert health[("0-3", "EXCLUDED")] == 0
    assert not [k for k in health if k[0] == COMPANIES_ID]


def test_no_settings_select_everything(run: Run) -> None:
    types, _ = run.definitions()
    everything = Selection()
    contacts = next(t for t in types if t.type_id == CONTACTS_ID)
    assert everything.syncs(contacts) and not everything.restricts(contacts)
    assert everything.exported(contacts, ["b", "a"]) == ["b", "a"]
    assert everything.column_name(contacts, "email") == "email"
