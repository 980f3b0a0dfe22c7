"""The loaded code location: one asset per registry table, their groups, deps, checks, job and schedule.

A change to the graph shows up here first, so an unintended one is caught in review.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from hubspot_pipeline.definitions import defs as load_defs
from hubspot_pipeline.defs.assets import asset_key
from hubspot_pipeline.tables.registry import TABLES


@pytest.fixture(scope="module")
def defs(monkeypatch_module: pytest.MonkeyPatch) -> dg.Definitions:
    monkeypatch_module.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test")
    return load_defs()


def test_one_asset_per_registry_table(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    table_keys = {k for k in graph.get_all_asset_keys() if k.path[-1].upper() in {t.name for t in TABLES}}
    assert table_keys == {asset_key(t.name) for t in TABLES}
    assert asset_key("OWNERS") == dg.AssetKey(["hubspot", "owners"])


def test_groups_and_dependencies(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    for spec in TABLES:
        node = graph.get(asset_key(spec.name))
        assert node.group_name == spec.group
        expected = {asset_key(u) for u in spec.upstream} | {dg.AssetKey(list(k)) for k in spec.asset_deps}
        assert set(node.parent_keys) == expected, spec.name
    assert set(graph.get(asset_key("OWNER_TEAM")).parent_keys) == {asset_key("OWNERS"), asset_key("TEAMS")}
    assert set(graph.get(asset_key("PIPELINE_STAGES")).parent_keys) == {asset_key("PIPELINES")}


def test_blocking_checks_declared(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    checks = {(k.asset_key, k.name) for k in graph.asset_check_keys}
    for spec in TABLES:
        key = asset_key(spec.name)
        assert (key, "primary_key_unique") in checks
        for ref in spec.references:
            assert (key, ref.check_name) in checks
    assert (asset_key("OWNER_TEAM"), "references_owners") in checks
    assert (asset_key("OWNER_TEAM"), "references_teams") in checks
    assert (asset_key("PIPELINE_STAGES"), "references_pipelines") in checks
    assert (
        asset_key("ASSOCIATION_DEFINITIONS"),
        "references_object_and_event_type_definitions_via_fromobjecttypeid",
    ) in checks
    # every check blocks publishing but the alert on FAILED records: SYNC_HEALTH is what reports them
    alerts = {k for k in graph.asset_check_keys if not graph.get_check_spec(k).blocking}
    assert alerts == {dg.AssetCheckKey(asset_key("SYNC_HEALTH"), "no_failed_records")}


def test_every_asset_is_daily_partitioned_and_api_assets_share_the_pool(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    for spec in TABLES:
        node = graph.get(asset_key(spec.name))
        assert isinstance(node.partitions_def, dg.DailyPartitionsDefinition)
        assert node.partitions_def.timezone == "UTC"
        assert node.pools == ({"hubspot_api"} if spec.calls_api else set())


def test_schedule_requests_yesterday(defs: dg.Definitions) -> None:
    schedule = defs.resolve_schedule_def("daily_export_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    with dg.instance_for_test() as instance:
        ctx = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
        )
        result = schedule.evaluate_tick(ctx)
    assert [r.partition_key for r in result.run_requests] == ["2026-11-21"]
    assert [r.run_key for r in result.run_requests] == ["2026-11-21"]
    assert defs.resolve_job_def("daily_export").partitions_def is not None


def test_events_backfill_job_takes_a_call_budget(defs: dg.Definitions) -> None:
    job = defs.resolve_job_def("events_backfill")
    op_config = {"ops": {"backfill_event_history": {"config": {"max_calls": 500}}}}
    assert dg.validate_run_config(job, op_config)["ops"]["backfill_event_history"]["config"] == {
        "max_calls": 500
    }
    default = dg.validate_run_config(job, {})
    assert default["ops"]["backfill_event_history"]["config"] == {"max_calls": 10_000}
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(job, {"ops": {"backfill_event_history": {"config": {"max_calls": "many"}}}})
    assert job.nodes[0].definition.pools == {"hubspot_api"}
