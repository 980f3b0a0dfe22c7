"""The whole code location end to end: `dagster asset materialize --select '*'` in a subprocess for a day
with activity, against the sandbox over HTTP and moto's S3 server; every asset check must pass, and the
lists, memberships and event tables read back from S3 equal the sandbox's data as of the day."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import boto3
import dagster as dg
import pytest

from hubspot_pipeline.store import list_tables, open_destination, read_table
from hubspot_pipeline.sync.object_types import STANDARD_OBJECT_TYPES
from hubspot_pipeline.sync.other_types import OTHER_TYPES, UNREACHABLE_TYPES
from hubspot_pipeline_tests.sandbox_session import other_objects_rows, served_types
from hubspot_sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.slow

DAY = "2026-11-10"
END = "2026-11-11T00:00:00.000Z"
TOKEN = "pat-na1-pipeline-e2e-token"
BUCKET = "pipeline-export"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=3, scale="tiny", token=TOKEN, start_date=date(2026, 11, 10))) as sb:
        sb.advance(days=1)  # creates, updates, list changes and events on 2026-11-10
        yield sb


@pytest.fixture(scope="module")
def run(sandbox: Sandbox, moto_server: str, tmp_path_factory, monkeypatch_module) -> dict:
    aws = {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }
    for name, value in aws.items():
        monkeypatch_module.setenv(name, value)
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    home = tmp_path_factory.mktemp("dagster_home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "AWS_"))}
    env.update(
        aws,
        DAGSTER_HOME=str(home),
        HUBSPOT_ACCESS_TOKEN=TOKEN,
        HUBSPOT_API_BASE_URL=sandbox.base_url,
        HUBSPOT_EXPORT_URL=f"s3://{BUCKET}/export",
    )
    dagster = str(Path(sys.executable).parent / "dagster")
    cmd = [dagster, "asset", "materialize", "-m", "hubspot_pipeline.definitions", "--select", "*"]
    proc = subprocess.run([*cmd, "--partition", DAY], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    return {"home": home, "dest": open_destination(env["HUBSPOT_EXPORT_URL"]), "proc": proc}


def test_every_asset_check_passed(run: dict) -> None:
    os.environ["DAGSTER_HOME"] = str(run["home"])
    from hubspot_pipeline.definitions import defs

    os.environ.setdefault("HUBSPOT_ACCESS_TOKEN", "unused")
    graph = defs().resolve_asset_graph()
    with dg.DagsterInstance.get() as instance:
        statuses = {
            key.to_user_string(): instance.get_latest_asset_check_evaluation_record(key).status.value
            for key in graph.asset_check_keys
        }
        # every check has exactly one result, for the day: no "Skipped" row beside it
        history = {
            key.to_user_string(): [
                (r.status.value, r.partition)
                for r in instance.event_log_storage.get_asset_check_execution_history(key, limit=10)
            ]
            for key in graph.asset_check_keys
        }
    assert len(statuses) >= 20
    assert set(statuses.values()) == {"SUCCEEDED"}, {k: v for k, v in statuses.items() if v != "SUCCEEDED"}
    assert {k: v for k, v in history.items() if v != [("SUCCEEDED", DAY)]} == {}


def test_lists_and_memberships_equal_the_sandbox_as_of_the_day(run: dict, sandbox: Sandbox) -> None:
    dest = run["dest"]
    lists = [x for x in sandbox.account.lists() if x["createdAt"] < END]
    got = read_table(dest, DAY, "LISTS")
    assert set(got.column("LISTID").to_pylist()) == {x["listId"] for x in lists}
    expected = {
        (x["listId"], str(rid), added)
        for x in lists
        for rid, added in sandbox.account.list_memberships(int(x["listId"]))
        if added < END
    }
    members = read_table(dest, DAY, "LIST_MEMBERSHIPS")
    cols = ("LISTID", "OBJECTID", "ADDEDAT")
    assert set(zip(*(members.column(c).to_pylist() for c in cols), strict=True)) == expected


def test_event_tables_equal_the_sandbox_events_of_the_day(run: dict, sandbox: Sandbox) -> None:
    dest = run["dest"]
    start, end = datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 11, tzinfo=UTC)
    expected: dict[str, dict] = {}
    for type_id in ("0-1", "0-2"):
        for object_id in sandbox.account.record_ids(type_id, archived=False, after=None, limit=10**9):
            for e in sandbox.account.events(type_id, object_id, occurred_after=start, occurred_before=end):
                expected[e["id"]] = e
    assert expected, "the day has events"
    tables = [t for t in list_tables(dest, DAY) if t.startswith("EVENTS_")]
    assert {f"EVENTS_{d['name'].upper()}" for d in sandbox.account.event_definitions()} <= set(tables)
    seen = {}
    for table_name in tables:
        table = read_table(dest, DAY, table_name)
        for row in table.to_pylist():
            event = expected[row["ID"]]
            assert row["EVENTTYPE"] == event["eventType"]
            assert row["OCCURREDAT"] == event["occurredAt"]
            assert row["OBJECTID"] == str(event["objectId"])
            for name, value in event["properties"].items():
                assert row[f"PROPERTY_{name.upper()}"] == value
            seen[row["ID"]] = table_name
    assert set(seen) == set(expected)


def test_objects_are_the_records_existing_at_the_end_of_the_day(run: dict, sandbox: Sandbox) -> None:
    objects = read_table(run["dest"], DAY, "OBJECTS")
    got = set(
        zip(objects.column("OBJECTTYPEID").to_pylist(), objects.column("OBJECTID").to_pylist(), strict=True)
    )
    expected = set()
    for t in served_types(sandbox):
        for record in sandbox.account.all_records(
            t.type_id, include_archived=True, properties=["hs_object_id"]
        ):
            created = record.created_at.astimezone(UTC) < end_of_day()
            alive = not record.archived or record.archived_at.astimezone(UTC) >= end_of_day()
            if created and alive:
                expected.add((t.type_id, str(record.id)))
    assert got == expected | other_objects_rows(sandbox)


def end_of_day() -> datetime:
    return datetime(2026, 11, 11, tzinfo=UTC)


def test_sync_health_figures_are_the_assets_metadata(run: dict) -> None:
    """SYNC_HEALTH's materialisation carries the table's figures as plain numbers per type name and
    state, which the UI plots over the partitions."""
    os.environ["DAGSTER_HOME"] = str(run["home"])
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["hubspot", "sync_health"]))
    assert event is not None and event.asset_materialization is not None
    metadata = event.asset_materialization.metadata
    names = {t.type_id: t.name for t in (*STANDARD_OBJECT_TYPES, *(o.info for o in OTHER_TYPES))}
    expected: dict[str, int] = {}
    rows = read_table(run["dest"], DAY, "SYNC_HEALTH").to_pylist()
    # the types the sandbox has not activated: a row each, with no count, and no figure
    assert {r["OBJECTTYPEID"] for r in rows if r["RECORDS"] is None} == {"0-410", "0-420"} | {
        i.type_id for i, _ in UNREACHABLE_TYPES
    }
    assert not [k for k in metadata if k.startswith(("courses/", "listings/"))]
    for row in (r for r in rows if r["RECORDS"] is not None):
        key = f"{names.get(row['OBJECTTYPEID'], row['OBJECTTYPEID'])}/{row['STATE'].lower()}"
        expected[key] = expected.get(key, 0) + int(row["RECORDS"])
    figures = {
        k: v.value
        for k, v in metadata.items()
        if isinstance(v, dg.IntMetadataValue)
        and k.split("/")[-1] in {"synced", "deleted", "excluded", "failed"}
    }
    assert {k: v for k, v in figures.items() if k in expected} == {
        k: v for k, v in expected.items() if not k.startswith("2-")
    }
    for state in ("synced", "deleted", "excluded", "failed"):  # custom types go by their names
        assert sum(v for k, v in figures.items() if k.endswith(state)) == sum(
            v for k, v in expected.items() if k.endswith(state)
        )
    assert figures["contacts/synced"] > 0 and figures["contacts/failed"] == 0
