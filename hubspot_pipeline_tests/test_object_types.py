"""The whole account: every object type HubSpot's objects API serves is probed per account and synced like
the first eleven; a type the account has not activated, or whose scope the token lacks, is reported
(SYNC_HEALTH, SYNC_ISSUES, manifest notes) without failing the run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from hubspot_pipeline.hubspot import HubSpotClient, HubSpotRequestError
from hubspot_pipeline.store import LocalDestination, read_manifest, read_table
from hubspot_pipeline.sync import type_access
from hubspot_pipeline.sync.definitions import (
    candidate_types,
    fetch_association_labels,
    fetch_schemas,
    fetch_type_access,
    present_types,
)
from hubspot_pipeline.sync.index import load_manifest
from hubspot_pipeline.sync.object_types import CUSTOM_READ_SCOPE, STANDARD_OBJECT_TYPES
from hubspot_pipeline.sync.other_types import OTHER_TYPES, UNREACHABLE_TYPES
from hubspot_pipeline.sync.snapshots import PREFIX as SNAPSHOTS
from hubspot_pipeline.sync.type_access import required_scopes
from hubspot_pipeline.tables.export import export_spec
from hubspot_pipeline.tables.registry import CRM_TABLES, SPECS
from hubspot_pipeline_tests.daily_runs import HEALTH, TOKEN, Account
from hubspot_sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.slow

START = date(2026, 5, 12)
DAY0 = START - timedelta(days=1)
NEW_TYPES = [t for t in STANDARD_OBJECT_TYPES if t.type_id not in {
    "0-1", "0-2", "0-3", "0-5", "0-7", "0-8", "0-27", "0-46", "0-47", "0-48", "0-49"}]  # fmt: skip
DEACTIVATED = {"0-410", "0-420"}  # the sandbox's default: courses and listings not activated
UNREACHABLE = {info.type_id for info, _ in UNREACHABLE_TYPES}  # ads, media bridge, sales documents
TABLES = (*CRM_TABLES, *HEALTH[1:])


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    """A tiny account synced for DAY0 and START (a day of changes between), every CRM table written."""
    with Sandbox(SandboxConfig(seed=5, scale="tiny", token=TOKEN, start_date=START)) as sb:
        account = Account(sb, LocalDestination(tmp_path_factory.mktemp("types") / "store"))
        account.run(DAY0, TABLES)
        sb.advance(1)
        account.run(START, TABLES)
        yield account


def _sandbox_ids(sb: Sandbox, type_id: str) -> set[int]:
    table = sb.account.tables[type_id]
    return {int(table.ids[i]) for i in table.live_indices()}


def test_every_activated_type_is_exported_with_its_records_and_history(synced: Account) -> None:
    sb, day = synced.sb, START
    for info in NEW_TYPES:
        if info.type_id in DEACTIVATED:
            continue
        rows = read_table(synced.dest, day.isoformat(), f"OBJECTS_{info.table_suffix}").to_pylist()
        assert {int(r["OBJECTID"]) for r in rows} == _sandbox_ids(sb, info.type_id), info.name
        assert synced.object_ids(day, info.type_id) == _sandbox_ids(sb, info.type_id)
    history = read_table(synced.dest, day.isoformat(), "OBJECT_PROPERTIES_HISTORY")
    quotes = [r for r in history.to_pylist() if r["OBJECTTYPEID"] == "0-14"]
    assert quotes and {r["NAME"] for r in quotes} >= {"hs_lastmodifieddate", "createdate"}
    definitions = read_table(synced.dest, day.isoformat(), "OBJECT_AND_EVENT_TYPE_DEFINITIONS").to_pylist()
    standard = {
        r["TYPEID"]: r["TABLENAME"] for r in definitions if r["KIND"] == "OBJECT" and r["ISCUSTOM"] == "false"
    }
    other = {t.type_id for t in OTHER_TYPES}
    assert set(standard) == {t.type_id for t in STANDARD_OBJECT_TYPES} - DEACTIVATED | other
    assert standard["0-14"] == "OBJECTS_QUOTES" and standard["0-136"] == "OBJECTS_LEADS"


def test_a_new_type_changes_are_picked_up_by_the_daily_sync(synced: Account) -> None:
    """advance() creates, updates and deletes records of the new types too; START's export equals the
    sandbox as of START's end for each, and the index did not run a second full sync."""
    live = [t for t in NEW_TYPES if t.type_id not in DEACTIVATED]
    changed = [t for t in live if synced.object_ids(DAY0, t.type_id) != synced.object_ids(START, t.type_id)]
    assert changed, "a day of changes creates or deletes records of some of the new types"
    for info in live:
        assert synced.object_ids(START, info.type_id) == _sandbox_ids(synced.sb, info.type_id), info.name
    generations = load_manifest(synced.dest).generations
    assert generations[-1].kind == "delta"
    assert sum(generations[-1].stats["types"][t.type_id]["changed"] for t in live) > 0


def test_associations_of_new_pairs_are_exported_both_ways(synced: Account) -> None:
    rows = read_table(synced.dest, START.isoformat(), "ASSOCIATIONS").to_pylist()
    pairs = {(r["FROMOBJECTTYPEID"], r["TOOBJECTTYPEID"]) for r in rows}
    new_ids = {t.type_id for t in NEW_TYPES}
    new_pairs = {p for p in pairs if p[0] in new_ids or p[1] in new_ids}
    assert new_pairs and all((b, a) in pairs for a, b in new_pairs)


def test_deactivated_types_are_reported_not_synced(synced: Account) -> None:
    day = START.isoformat()
    reported = synced.unavailable(START)
    assert set(reported) == DEACTIVATED | UNREACHABLE
    deactivated = {t: r for t, r in reported.items() if t in DEACTIVATED}
    assert {r["ERRORCATEGORY"] for r in deactivated.values()} == {"NOT_ACTIVATED"}
    assert all("activate" in r["HOWTOFIX"] for r in deactivated.values())
    health = [
        r for r in read_table(synced.dest, day, "SYNC_HEALTH").to_pylist() if r["STATE"] == "UNAVAILABLE"
    ]
    assert {(r["OBJECTTYPEID"], r["ERRORCATEGORY"], r["RECORDS"]) for r in health} == {
        *((t, "NOT_ACTIVATED", None) for t in DEACTIVATED),
        *((t, "NOT_AVAILABLE", None) for t in UNREACHABLE),
    }
    notes = " ".join(read_manifest(synced.dest, day, "OBJECTS")["notes"])
    assert "courses (0-410) NOT_ACTIVATED" in notes and "listings (0-420) NOT_ACTIVATED" in notes
    assert "ads (0-33) NOT_AVAILABLE" in notes and "public read API" in reported["0-33"]["MESSAGE"]
    assert not synced.object_ids(START, "0-410")


def test_association_labels_ask_each_unordered_pair_once_and_the_reverse_only_when_it_has_types(
    synced: Account,
) -> None:
    sb = synced.sb
    client = synced.client()
    ctx = synced.context(START, client)
    deps = {name: ctx.snapshot(name).data for name in ("schemas", "properties")}
    sb.reset_calls()
    labels = fetch_association_labels(client, deps)
    n = len(present_types(deps["schemas"], deps["properties"]))  # the objects API's types
    with_types = {(d["fromObjectTypeId"], d["toObjectTypeId"]) for d in labels}
    unordered_with_types = {tuple(sorted(p)) for p in with_types if p[0] != p[1]}
    assert sb.total_calls() == n * (n + 1) // 2 + len(unordered_with_types)
    # nothing lost: every direction of every pair the sandbox defines is there
    assert all((b, a) in with_types for a, b in with_types)


def test_a_scope_removed_then_added_leaves_its_types_out_then_brings_them_back(tmp_path: Path) -> None:
    """The probe is daily (definitions otherwise reused for 7 days): the day a scope goes, its types are
    reported and the sync goes on without them; the day it comes back, they are synced again."""
    quotes = next(t for t in STANDARD_OBJECT_TYPES if t.name == "quotes")
    everything = set(required_scopes())
    with Sandbox(SandboxConfig(seed=5, scale="tiny", token=TOKEN, start_date=START)) as sb:
        sb.add_token("pat-app", scopes=everything)
        account = Account(sb, LocalDestination(tmp_path / "store"), token="pat-app", refresh_days=7)
        account.run(DAY0, TABLES)
        assert account.object_ids(DAY0, "0-14") == _sandbox_ids(sb, "0-14")
        # the private app loses quotes and custom objects: no failed run, the types reported
        sb.add_token("pat-app", scopes=everything - {quotes.read_scope, CUSTOM_READ_SCOPE})
        sb.advance(1)
        account.run(START, TABLES)
        custom = {t.type_id for t in sb.account.object_types() if t.custom}
        reported = account.unavailable(START)
        assert set(reported) == {"0-14", *custom, *DEACTIVATED, *UNREACHABLE}
        assert reported["0-14"]["ERRORCATEGORY"] == "MISSING_SCOPES"
        assert "crm.objects.quotes.read" in reported["0-14"]["HOWTOFIX"]
        assert not account.object_ids(START, "0-14")
        assert account.object_ids(START, "0-53") == _sandbox_ids(sb, "0-53")  # invoices still synced
        # the settings may name types the token cannot read, custom ones too: no error, no report
        off = {t.name: {"sync": False} for t in sb.account.object_types() if t.custom}
        account.selection_json = json.dumps({"object_types": {"quotes": {"sync": False}, **off}})
        day2 = START + timedelta(days=1)
        sb.advance(1)
        account.run(day2, ("OBJECTS", "SYNC_ISSUES"))
        assert set(account.unavailable(day2)) == DEACTIVATED | UNREACHABLE
        # the scopes come back: synced from the next day, records and history as HubSpot has them
        account.selection_json = ""
        sb.add_token("pat-app", scopes=everything)
        day3 = day2 + timedelta(days=1)
        sb.advance(1)
        account.run(day3, TABLES)
        assert set(account.unavailable(day3)) == DEACTIVATED | UNREACHABLE
        assert account.object_ids(day3, "0-14") == _sandbox_ids(sb, "0-14")


def test_a_day_exported_before_the_probe_existed_reports_no_type_and_calls_nothing(synced: Account) -> None:
    """Re-running the health tables of a day whose snapshots predate `type_access` (its snapshot removed
    here) reads the store only: no UNAVAILABLE rows, no call."""
    key = f"{SNAPSHOTS}/{DAY0.isoformat()}/type_access.json.gz"
    saved = synced.dest.get_bytes(key)
    synced.dest.delete([key])
    try:
        calls = synced.sb.total_calls()
        ctx = synced.context(DAY0, synced.client())
        for name in ("SYNC_HEALTH", "SYNC_ISSUES"):
            assert export_spec(ctx, SPECS[name]).published
        assert synced.sb.total_calls() == calls
        assert not synced.unavailable(DAY0)
    finally:
        synced.dest.put_bytes(key, saved)


def test_a_custom_object_named_like_a_standard_type_goes_by_its_fully_qualified_name() -> None:
    schema = {"id": "91", "objectTypeId": "2-91", "name": "project", "fullyQualifiedName": "p1_project",
              "labels": {"singular": "Project", "plural": "Projects"}}  # fmt: skip
    types = {t.type_id: t for t in candidate_types([schema])}
    assert (types["2-91"].name, types["2-91"].singular, types["2-91"].table_suffix) == (
        "p1_project",
        "p1_project",
        "P1_PROJECT",
    )
    assert (types["0-970"].name, types["0-970"].table_suffix) == ("projects", "PROJECTS")
    other = {**schema, "id": "92", "objectTypeId": "2-92", "name": "boat", "fullyQualifiedName": "p1_boat",
             "labels": {"singular": "Boat", "plural": "Boats"}}  # fmt: skip
    assert {t.name for t in candidate_types([other]) if t.custom} == {"boats"}  # the others keep theirs


class _Labels:
    """A client whose labels answers are given per (from, to); a missing pair answers 400."""

    def __init__(self, answers: dict[tuple[str, str], list[dict]]) -> None:
        self.answers, self.asked = answers, list[tuple[str, str]]()

    def get(self, path: str, params: object = None) -> dict:
        _, _, _, _, src, dst, _ = path.split("/")
        self.asked.append((src, dst))
        if (src, dst) not in self.answers:
            raise HubSpotRequestError("bad pair", status=400)
        return {"results": self.answers[(src, dst)]}


def test_association_labels_ask_the_reverse_when_the_forward_answers_an_error() -> None:
    label = {"category": "HUBSPOT_DEFINED", "typeId": 7, "label": None}
    client = _Labels({("0-1", "0-1"): [], ("0-2", "0-2"): [], ("0-2", "0-1"): [label]})
    deps = {"schemas": [], "properties": {"0-1": [], "0-2": []}}
    labels = fetch_association_labels(client, deps)  # type: ignore[arg-type]
    assert client.asked == [("0-1", "0-1"), ("0-1", "0-2"), ("0-2", "0-1"), ("0-2", "0-2")]
    assert labels == [{"fromObjectTypeId": "0-2", "toObjectTypeId": "0-1", **label}]
    # a forward answer with no types spares the reverse
    client = _Labels({("0-1", "0-1"): [], ("0-1", "0-2"): [], ("0-2", "0-2"): []})
    assert fetch_association_labels(client, deps) == []  # type: ignore[arg-type]
    assert ("0-2", "0-1") not in client.asked


def test_the_readme_lists_every_required_scope() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    missing = [s for s in required_scopes() if f"`{s}`" not in readme]
    assert not missing, f"README's scope list lacks {missing}"


def test_without_the_enablement_endpoint_the_probe_still_names_the_types_it_cannot_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An account or token the enablement endpoint refuses: each type's one-record read decides, and a
    deactivated type answers HubSpot's 4xx, kept as NOT_AVAILABLE with its message."""
    monkeypatch.setattr(type_access, "ENABLEMENT_PATH", "/crm/v3/object-library/no-such-route")
    with Sandbox(SandboxConfig(seed=5, scale="tiny", token=TOKEN, start_date=START)) as sb:
        client = HubSpotClient(sb.base_url, TOKEN, rate_limit_per_10s=100_000, sleep=lambda _: None)
        schemas = fetch_schemas(client, {})
        sb.reset_calls()
        owners = [{"id": "1", "userId": 7}]
        access = fetch_type_access(client, {"schemas": schemas, "owners": owners})
        custom = [s for s in schemas if not s.get("archived")]
        # the refused call is not HubSpot's; the other types: one read each, deal splits two, form
        # submissions none (the forms probe answers for them)
        other = sum(t.read == "listing" for t in OTHER_TYPES) + 1 + 2  # + sequences + deals, splits
        assert sb.total_calls() == len(STANDARD_OBJECT_TYPES) + len(custom) + other
    found = type_access.unavailable(access)
    assert set(found) == DEACTIVATED | UNREACHABLE and access["enablement"] == {}
    assert {u.category for u in found.values()} == {"NOT_AVAILABLE"}
    assert "not activated" in found["0-410"].message
