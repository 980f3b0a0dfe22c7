"""End to end over HTTP: `dagster asset materialize` in a subprocess, sandbox HubSpot, moto S3.

The first tables are read back from S3 and compared row for row with what the sandbox holds; manifests,
forced multi-part splits, re-runs and the absence of the token everywhere a run leaves traces are checked.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import boto3
import pyarrow as pa
import pytest

from hubspot_pipeline.store import open_destination, read_manifest, read_table
from hubspot_pipeline.sync.other_types import OTHER_TYPES
from hubspot_pipeline_tests.sandbox_session import served_types
from hubspot_sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.slow

DAY = "2026-11-21"
TOKEN = "pat-na1-e2e0c0ffee-5ecret-70ken"
BUCKET = "export-bucket"
PREFIX = "hubspot/export"
FIRST_TABLES = [
    "OBJECT_AND_EVENT_TYPE_DEFINITIONS",
    "PROPERTY_DEFINITIONS",
    "ASSOCIATION_DEFINITIONS",
    "OWNERS",
    "TEAMS",
    "OWNER_TEAM",
    "PIPELINES",
    "PIPELINE_STAGES",
]
SMALL_PARTS = 8 * 1024  # forces PROPERTY_DEFINITIONS into many parts


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=7, scale="tiny", token=TOKEN, start_date=date(2026, 11, 22))) as sb:
        yield sb


@pytest.fixture(scope="module")
def run_env(
    sandbox: Sandbox,
    moto_server: str,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch_module: pytest.MonkeyPatch,
) -> dict[str, str]:
    aws = {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }
    for name, value in aws.items():  # this process reads the bucket back through the same variables
        monkeypatch_module.setenv(name, value)
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "AWS_"))}
    env.update(
        aws,
        DAGSTER_HOME=str(tmp_path_factory.mktemp("dagster_home")),
        HUBSPOT_ACCESS_TOKEN=TOKEN,
        HUBSPOT_API_BASE_URL=sandbox.base_url,
        HUBSPOT_EXPORT_URL=f"s3://{BUCKET}/{PREFIX}",
        HUBSPOT_MAX_PART_BYTES=str(SMALL_PARTS),
    )
    return env


def materialize(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    dagster = str(Path(sys.executable).parent / "dagster")
    select = ",".join(f"hubspot/{t.lower()}" for t in FIRST_TABLES)
    cmd = [dagster, "asset", "materialize", "-m", "hubspot_pipeline.definitions", "--select", select]
    proc = subprocess.run([*cmd, "--partition", DAY], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    return proc


@pytest.fixture(scope="module")
def first_run(run_env: dict[str, str], sandbox: Sandbox) -> dict[str, object]:
    sandbox.reset_calls()
    proc = materialize(run_env)
    return {"proc": proc, "calls": sandbox.total_calls()}


@pytest.fixture(scope="module")
def dest(run_env: dict[str, str], first_run: dict[str, object]):
    return open_destination(run_env["HUBSPOT_EXPORT_URL"])


def rows(table: pa.Table, *cols: str) -> set[tuple]:
    return set(zip(*(table.column(c).to_pylist() for c in cols), strict=True))


def text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_every_first_table_written_with_a_manifest(dest, first_run, sandbox: Sandbox) -> None:
    for table in FIRST_TABLES:
        manifest = read_manifest(dest, DAY, table)
        assert manifest is not None, table
        assert manifest["table"] == table
        assert manifest["rows"] > 0, table
        assert str(manifest["account_id"]) == str(sandbox.account.portal_id)
        assert manifest["as_of"] == "2026-11-22T00:00:00.000Z"


def test_owners_teams_memberships_match_the_sandbox(dest, sandbox: Sandbox) -> None:
    owners = sandbox.account.owners(False) + sandbox.account.owners(True)
    expected = {
        (o["id"], o.get("email"), o.get("firstName"), o.get("lastName"), text(o["archived"])) for o in owners
    }
    got = rows(read_table(dest, DAY, "OWNERS"), "OWNERID", "EMAIL", "FIRSTNAME", "LASTNAME", "ARCHIVED")
    assert got == {tuple(text(v) for v in r) for r in expected}
    assert any(o["archived"] for o in owners), "the sandbox has archived owners and they are exported"

    teams = sandbox.account.teams()
    assert rows(read_table(dest, DAY, "TEAMS"), "TEAMID", "NAME") == {
        (text(t["id"]), t["name"]) for t in teams
    }

    memberships = {
        (text(o["id"]), text(t["id"]), text(t["primary"])) for o in owners for t in o.get("teams", [])
    }
    assert memberships, "the sandbox assigns owners to teams"
    assert rows(read_table(dest, DAY, "OWNER_TEAM"), "OWNERID", "TEAMID", "ISPRIMARY") == memberships


def test_pipelines_and_stages_match_the_sandbox(dest, sandbox: Sandbox) -> None:
    expected_p, expected_s = set(), set()
    for t in served_types(sandbox):
        for p in sandbox.account.pipelines(t.type_id):
            expected_p.add((t.type_id, p["id"], p["label"]))
            for s in p["stages"]:
                expected_s.add(
                    (t.type_id, p["id"], s["id"], s["label"], json.dumps(s["metadata"], sort_keys=True))
                )
    assert {tid for tid, _, _ in expected_p} >= {"0-3", "0-5"}
    assert rows(read_table(dest, DAY, "PIPELINES"), "OBJECTTYPEID", "PIPELINEID", "LABEL") == expected_p
    stages = read_table(dest, DAY, "PIPELINE_STAGES")
    got = {
        (a, b, c, d, json.dumps(json.loads(m), sort_keys=True))
        for a, b, c, d, m in rows(stages, "OBJECTTYPEID", "PIPELINEID", "STAGEID", "LABEL", "METADATA")
    }
    assert got == expected_s


def test_type_and_property_definitions_match_the_sandbox(dest, sandbox: Sandbox) -> None:
    types = served_types(sandbox)
    got_types = rows(read_table(dest, DAY, "OBJECT_AND_EVENT_TYPE_DEFINITIONS"), "TYPEID", "KIND", "ISCUSTOM")
    assert {(t, k, c) for t, k, c in got_types if k == "OBJECT"} == {
        (t.type_id, "OBJECT", text(t.custom)) for t in types
    } | {(t.type_id, "OBJECT", "false") for t in OTHER_TYPES}
    assert sum(t.custom for t in types) >= 2

    expected = set()
    for t in types:
        for archived in (False, True):
            for p in sandbox.account.property_definitions(t.type_id, archived=archived):
                expected.add((t.type_id, p["name"], p["type"], p["fieldType"], text(archived)))
    expected |= {
        (o.type_id, p["name"], p["type"], p["fieldType"], "false")
        for o in OTHER_TYPES
        for p in o.property_definitions()
    }
    got = rows(
        read_table(dest, DAY, "PROPERTY_DEFINITIONS"), "OBJECTTYPEID", "NAME", "TYPE", "FIELDTYPE", "ARCHIVED"
    )
    events = {d["objectTypeId"]: d for d in sandbox.account.event_definitions()}
    assert {r for r in got if r[0] not in events} == expected
    assert {(r[0], r[1]) for r in got if r[0] in events} == {
        (tid, p["name"]) for tid, d in events.items() for p in d["properties"]
    }
    event_rows = {r for r in got_types if r[1] == "EVENT"}
    standard = {name for name in sandbox.account.event_types() if name.startswith("e_")}
    assert {r[0] for r in event_rows} == set(events) | standard

    labels = set()
    for a in types:
        for b in types:
            for item in sandbox.account.association_labels(a.type_id, b.type_id):
                labels.add((a.type_id, b.type_id, text(item["typeId"]), item["category"], item.get("label")))
    got = rows(
        read_table(dest, DAY, "ASSOCIATION_DEFINITIONS"),
        "FROMOBJECTTYPEID",
        "TOOBJECTTYPEID",
        "ASSOCIATIONTYPEID",
        "CATEGORY",
        "LABEL",
    )
    assert got == labels
    assert any(cat == "USER_DEFINED" for *_, cat, _ in labels)


def s3_objects(endpoint: str, prefix: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
    return out


def test_manifests_name_exactly_the_parts_and_parts_respect_the_size(dest, moto_server: str) -> None:
    for table in FIRST_TABLES:
        folder = f"{PREFIX}/{DAY}/{table}/"
        objects = s3_objects(moto_server, folder)
        manifest = json.loads(objects.pop(folder + "_manifest.json"))
        assert sorted(f"{PREFIX}/{p['key']}" for p in manifest["parts"]) == sorted(objects)
        for part in manifest["parts"]:
            body = objects[f"{PREFIX}/{part['key']}"]
            assert len(body) == part["bytes"] <= SMALL_PARTS or part["rows"] == 1
            assert hashlib.sha256(body).hexdigest() == part["sha256"]
        assert sum(p["rows"] for p in manifest["parts"]) == manifest["rows"]
    many = read_manifest(dest, DAY, "PROPERTY_DEFINITIONS")
    assert len(many["parts"]) > 3, "a small part size splits the property definitions"


def test_rerun_replaces_the_day_with_exactly_one_runs_parts(
    run_env, dest, first_run, sandbox: Sandbox
) -> None:
    before = {t: read_manifest(dest, DAY, t)["run_id"] for t in FIRST_TABLES}
    calls_before = sandbox.total_calls()
    materialize(run_env)
    assert sandbox.total_calls() == calls_before, "a re-run of a day reuses its definition snapshots"
    for table in FIRST_TABLES:
        manifest = read_manifest(dest, DAY, table)
        assert manifest["run_id"] != before[table]
        keys = [o.key for o in dest.list(f"{DAY}/{table}/") if not o.key.endswith("_manifest.json")]
        assert sorted(keys) == sorted(p["key"] for p in manifest["parts"])
        assert {k.split("/")[-1].split("-")[1] for k in keys} == {manifest["run_id"][:8]}


def test_the_token_appears_nowhere(run_env, first_run, moto_server: str) -> None:
    proc = first_run["proc"]
    assert TOKEN not in proc.stdout and TOKEN not in proc.stderr
    secret = TOKEN.encode()
    for key, body in s3_objects(moto_server, "").items():
        assert secret not in body, key
        if key.endswith(".gz"):
            import gzip

            assert secret not in gzip.decompress(body), key
    home = Path(run_env["DAGSTER_HOME"])
    scanned = 0
    for path in home.rglob("*"):
        if path.is_file():
            scanned += 1
            assert secret not in path.read_bytes(), path
    assert scanned > 0, "the run left its event log and compute logs under DAGSTER_HOME"
