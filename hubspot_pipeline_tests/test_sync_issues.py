"""Sync health you can act on: records HubSpot fails to read are kept with their error, retried each
day until they succeed or have failed `failed_retry_days` times, listed in SYNC_ISSUES (with the
records the sync settings leave out), and re-read on demand by a resync of `failed`, `deleted` or
`all`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource

from hubspot_pipeline.defs.account import DEFAULT_ACCOUNT
from hubspot_pipeline.defs.account_defs import account_resources
from hubspot_pipeline.defs.resources import ExportStoreResource, HubSpotResource
from hubspot_pipeline.defs.resync_job import build_resync_job
from hubspot_pipeline.defs.sync_asset import CRM_INDEX_KEY
from hubspot_pipeline.store import LocalDestination, read_table
from hubspot_pipeline.sync.compaction import compact_index
from hubspot_pipeline.sync.incremental import IncrementalSettings
from hubspot_pipeline.sync.index import load_manifest
from hubspot_pipeline.sync.resync import ResyncError, ResyncRequest
from hubspot_pipeline.tables.export import export_spec
from hubspot_pipeline.tables.health_tables import produce_sync_health
from hubspot_pipeline.tables.registry import CRM_TABLES, SPECS
from hubspot_pipeline_tests.daily_runs import HEALTH, TOKEN, Account
from hubspot_pipeline_tests.sandbox_session import Killed
from hubspot_sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.slow

START = date(2026, 3, 6)
DAY0 = START - timedelta(days=1)
BATCH_READ = "POST /crm/v3/objects/{objectType}/batch/read"


def _live_ids(sb: Sandbox, type_id: str) -> list[int]:
    table = sb.account.tables[type_id]
    return [int(table.ids[i]) for i in table.live_indices()]


@pytest.fixture
def account(tmp_path: Path) -> Iterator[Account]:
    with Sandbox(SandboxConfig(seed=3, scale="tiny", token=TOKEN, start_date=START)) as sb:
        yield Account(sb, LocalDestination(tmp_path / "store"))


def test_failed_records_are_kept_retried_listed_and_leave_failed_once_read(account: Account) -> None:
    sb = account.sb
    contacts = _live_ids(sb, "0-1")
    stuck, flaky = contacts[:3], contacts[3:7]
    sb.set_record_failures("contacts", ids=stuck, category="VALIDATION_ERROR")
    sb.set_record_failures("contacts", ids=flaky, times=1)  # fails its first read only
    account.settings = IncrementalSettings(failed_retry_days=2)
    account.run(DAY0)

    failed = {r["object_id"]: r for r in account.failed().to_pylist()}
    assert set(failed) == {*stuck, *flaky}
    assert {failed[i]["category"] for i in stuck} == {"VALIDATION_ERROR"}
    assert {failed[i]["category"] for i in flaky} == {"INTERNAL_ERROR"}
    assert all(r["attempts"] == 1 and r["part"] == "live" for r in failed.values())
    assert "could not be read" in failed[stuck[0]]["message"]
    # a record that failed its first read is not exported, and SYNC_ISSUES says why
    assert not account.object_ids(DAY0, "0-1") & set(failed)
    issues = {r["OBJECTID"]: r for r in account.issues(DAY0)}
    assert set(map(int, issues)) == set(failed)
    first = issues[str(stuck[0])]
    assert (first["STATE"], first["ERRORCATEGORY"], first["ATTEMPTS"]) == ("FAILED", "VALIDATION_ERROR", "1")
    assert "resync" in first["HOWTOFIX"] and first["FIRSTSEENAT"] == first["LASTATTEMPTAT"]
    assert account.health(DAY0)[("0-1", "FAILED")] == 7

    # day 1: the retries ride in the batch reads of the changed records (one call per 100)
    sb.advance(1)
    sb.reset_calls()
    account.run(START)
    failed = {r["object_id"]: r for r in account.failed().to_pylist()}
    assert set(failed) == set(stuck)  # the transient ones were read and left FAILED
    assert {r["attempts"] for r in failed.values()} == {2}
    assert all(r["last_attempt_at"] > r["first_attempt_at"] for r in failed.values())
    assert set(flaky) <= account.object_ids(START, "0-1")
    assert load_manifest(account.dest).generations[-1].stats["types"]["0-1"]["changed"] >= len(flaky)

    # day 2: the stuck ones have failed `failed_retry_days` times: no more daily retries, only a
    # read when HubSpot shows a change of the record
    sb.advance(1)
    account.run(START + timedelta(days=1))
    failed = {r["object_id"]: r for r in account.failed().to_pylist()}
    table = sb.account.tables["0-1"]
    day_start = (sb.account.now_ms // 86_400_000 - 1) * 86_400_000
    changed_today = {i for i in stuck if int(table.updated[table.index_of(i)]) >= day_start}
    assert set(failed) == set(stuck)
    assert {i for i, r in failed.items() if r["attempts"] == 3} == changed_today
    assert {i for i, r in failed.items() if r["attempts"] == 2} == set(stuck) - changed_today
    issue = next(r for r in account.issues(START + timedelta(days=1)) if r["OBJECTID"] == str(stuck[0]))
    assert "no longer retried daily after 2 failed attempts" in issue["HOWTOFIX"]

    # a resync of `failed` reads them now; they are exported from the next synced day on
    sb.clear_record_failures()
    watermark = load_manifest(account.dest).watermark
    sb.reset_calls()
    parts = {r["part"] for r in failed.values()}  # a stuck record HubSpot archived fails as a tombstone
    live = {i for i, r in failed.items() if r["part"] == "live"}
    calls = account.resync(ResyncRequest("failed"), START + timedelta(days=1))
    assert calls == sb.calls[BATCH_READ] == len(parts)  # one batch read per 100 of a part
    assert load_manifest(account.dest).watermark == watermark  # the daily search goes on from there
    assert account.failed().num_rows == 0
    sb.advance(1)
    day3 = START + timedelta(days=2)
    account.run(day3, HEALTH)
    assert live and live <= account.object_ids(day3, "0-1")
    assert account.health(day3)[("0-1", "FAILED")] == 0 and not account.issues(day3)

    # compaction keeps what each merged sync reported: a past day's SYNC_ISSUES is unchanged
    day2 = START + timedelta(days=1)
    before = account.issues(day2)
    compact_index(account.dest, "compact")
    export_spec(account.context(day2, account.client()), SPECS["SYNC_ISSUES"])
    assert account.issues(day2) == before and len(before) == len(stuck)


def test_excluded_records_are_listed_with_the_condition_that_leaves_them_out(account: Account) -> None:
    account.selection_json = '{"object_types": {"contacts": {"records": [{"property": "email", "operator": "HAS_PROPERTY"}, {"property": "lifecyclestage", "operator": "EQ", "value": "customer"}]}}}'
    account.run(DAY0)
    issues = account.issues(DAY0)
    health = account.health(DAY0)
    assert health[("0-1", "EXCLUDED")] == len(issues) > 0
    assert {r["STATE"] for r in issues} == {"EXCLUDED"} and {r["ERRORCATEGORY"] for r in issues} == {
        "FILTERED"
    }
    messages = {r["MESSAGE"] for r in issues}
    assert messages <= {
        "left out by the sync settings: contacts records need email HAS_PROPERTY",
        "left out by the sync settings: contacts records need lifecyclestage EQ 'customer'",
    }
    assert "left out by the sync settings: contacts records need lifecyclestage EQ 'customer'" in messages
    assert all(r["ATTEMPTS"] is None and r["FIRSTSEENAT"] is None for r in issues)


def test_sync_health_metadata_is_plain_numbers_per_type_name(account: Account) -> None:
    account.sb.set_record_failures("companies", share=0.2)
    account.run(DAY0)
    ctx = account.context(DAY0, account.client())
    (data,) = produce_sync_health(ctx, SPECS["SYNC_HEALTH"])
    health = account.health(DAY0)
    assert data.metadata["companies/failed"] == health[("0-2", "FAILED")] > 0
    assert data.metadata["contacts/synced"] == health[("0-1", "SYNCED")] > 0
    assert all(isinstance(v, int) for v in data.metadata.values())
    # the alert: SYNC_HEALTH is still published, as the table that reports the failures
    outcome = export_spec(ctx, SPECS["SYNC_HEALTH"])
    (check,) = [c for c in outcome.checks if c.name == "no_failed_records"]
    assert not check.passed and not check.blocking and outcome.published
    assert check.metadata["failed"] == {"0-2/INTERNAL_ERROR": health[("0-2", "FAILED")]}


def test_resync_deleted_brings_back_a_restored_record_from_the_next_day(account: Account) -> None:
    sb = account.sb
    account.run(DAY0)
    sb.advance(1)
    account.run(START, HEALTH)
    table = sb.account.tables["0-1"]
    gone = [int(table.ids[i]) for i in range(len(table)) if table.archived[i] and i not in table.merged]
    assert gone, "the sandbox archives a contact a day"
    victim = gone[0]
    assert victim not in account.object_ids(START, "0-1")
    sb.restore("contacts", victim, touch=False)  # a modified-date search cannot see it
    calls = account.resync(ResyncRequest("deleted", ("contacts",)), START)
    assert calls >= 1
    account.run(START, ("OBJECTS",))  # the day already synced keeps its export
    assert victim not in account.object_ids(START, "0-1")
    sb.advance(1)
    day2 = START + timedelta(days=1)
    account.run(day2, HEALTH)
    assert victim in account.object_ids(day2, "0-1")
    # again: idempotent (the record is live in the index now, nothing to re-check for it)
    assert account.resync(ResyncRequest("deleted", ("contacts",), (victim,)), day2) == 0


def test_resync_all_replaces_a_type_and_survives_a_kill(account: Account, tmp_path: Path) -> None:
    sb = account.sb
    account.run(DAY0)
    sb.advance(1)
    account.run(START)
    before = load_manifest(account.dest)
    with pytest.raises(Killed):
        account.resync(ResyncRequest("all", ("companies",)), START, fail_after=3)
    assert load_manifest(account.dest) == before
    account.resync(ResyncRequest("all", ("companies",)), START)
    manifest = load_manifest(account.dest)
    assert manifest.generations[-1].replaces == ["0-2"] and manifest.watermark == before.watermark
    sb.advance(1)
    day2 = START + timedelta(days=1)
    account.run(day2, CRM_TABLES)
    fresh = Account(sb, LocalDestination(tmp_path / "fresh"))
    fresh.run(day2, CRM_TABLES)
    for name in ("OBJECTS", "OBJECT_WITH_OBJECT_PROPERTIES"):
        assert _rows(account.dest, day2, name, False) == _rows(fresh.dest, day2, name, False), name
    # compacted, the index serves every day as before
    name = "OBJECT_WITH_OBJECT_PROPERTIES"
    export_spec(account.context(START, account.client()), SPECS[name])
    rows = {day: _rows(account.dest, day, name) for day in (START, day2)}
    compact_index(account.dest, "compact")
    for day in (START, day2):
        export_spec(account.context(day, account.client()), SPECS[name])
        assert _rows(account.dest, day, name) == rows[day]


def _rows(dest: LocalDestination, day: date, name: str, ingested: bool = True) -> set[tuple]:
    rows = read_table(dest, day.isoformat(), name).to_pylist()
    return {tuple(v for c, v in r.items() if ingested or c != "INGESTEDAT") for r in rows}


def test_resync_says_what_to_fix() -> None:
    with pytest.raises(ResyncError, match="which: 'some' is not one of failed, deleted, all"):
        ResyncRequest("some")
    with pytest.raises(ResyncError, match="record_ids go with which: failed or deleted"):
        ResyncRequest("all", (), (1,))


def test_the_resync_job_runs_in_the_hubspot_pool_with_its_run_config(
    account: Account, tmp_path: Path
) -> None:
    """The Dagster job: run config names what to re-read; it runs in the account's pool, reports on
    the crm_index asset, and a bad value fails the run with a message that names it."""
    sb = account.sb
    stuck = _live_ids(sb, "0-2")[:2]
    sb.set_record_failures("companies", ids=stuck)
    account.run(DAY0)
    assert account.failed().num_rows == 2
    sb.clear_record_failures()
    hubspot = HubSpotResource(
        access_token=TOKEN, base_url=sb.base_url, rate_limit_per_10s=100_000, pace_file=str(tmp_path / "pace")
    )
    store = ExportStoreResource(export_url=str(account.dest.root), s3=S3Resource())
    job = build_resync_job(DEFAULT_ACCOUNT)
    resources = account_resources(DEFAULT_ACCOUNT, hubspot, store)
    config = {"ops": {"resync_index": {"config": {"which": "failed", "object_types": ["companies"]}}}}
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(run_config=config, resources=resources, instance=instance)
        assert result.success
        (observation,) = [
            e.asset_observation_data.asset_observation
            for e in result.all_events
            if e.event_type_value == "ASSET_OBSERVATION"
        ]
        assert observation.asset_key == CRM_INDEX_KEY
        assert observation.metadata["api_calls"].value == 1
        assert job.graph.node_defs[0].pool == DEFAULT_ACCOUNT.pool
        bad = {"ops": {"resync_index": {"config": {"which": "everything"}}}}
        failed = job.execute_in_process(
            run_config=bad, resources=resources, instance=instance, raise_on_error=False
        )
    assert not failed.success
    assert "which: 'everything' is not one of failed, deleted, all" in str(
        failed.failure_data_for_node("resync_index")
    )
    assert account.failed().num_rows == 0
