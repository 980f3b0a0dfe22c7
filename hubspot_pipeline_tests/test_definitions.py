"""The loaded code location, as a snapshot: asset keys, groups, deps, checks, jobs, schedules, sensors.

A change to the graph shows up here first as a diff of `snapshots/definitions.json`, so an unintended
one is caught in review.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from hubspot_pipeline.definitions import defs as load_defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


@pytest.fixture(scope="module")
def defs(monkeypatch_module: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> dg.Definitions:
    monkeypatch_module.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test")
    # a store of its own: no account state, so the code location a fresh clone loads
    monkeypatch_module.setenv("HUBSPOT_EXPORT_URL", str(tmp_path_factory.mktemp("defs") / "export"))
    return load_defs()


def describe(defs: dg.Definitions) -> dict:
    """What the UI shows of the code location: assets (group, deps, kinds, pools, partitions,
    freshness, checks with blocking), jobs, schedules and sensors."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = node.partitions_def
        assert isinstance(partitions, dg.DailyPartitionsDefinition), key
        checks = sorted(
            (c.name, graph.get_check_spec(c).blocking) for c in graph.asset_check_keys if c.asset_key == key
        )
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "kinds": sorted(node.kinds),
            "pools": sorted(node.pools or ()),
            "partitions": f"daily {partitions.timezone} from {partitions.start.date()}",
            "freshness": getattr(node.freshness_policy, "deadline_cron", None),
            "checks": [f"{name}{'' if blocking else ' (alert)'}" for name, blocking in checks],
        }
    return {
        "assets": assets,
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")),
        "schedules": sorted(
            f"{s.name}: {s.cron_schedule} ({s.default_status.value})"
            for s in (defs.resolve_schedule_def(x.name) for x in defs.schedules or ())
        ),
        "sensors": sorted(f"{s.name} ({s.default_status.value})" for s in defs.sensors or ()),
    }


def test_the_loaded_definitions_match_the_snapshot(defs: dg.Definitions) -> None:
    """`UPDATE_SNAPSHOTS=1 pytest hubspot_pipeline_tests/test_definitions.py` rewrites it; review the diff."""
    described = describe(defs)
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(described, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert described == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


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


@pytest.mark.slow
def test_dg_checks_and_lists_the_project(tmp_path: Path) -> None:
    """The project is a `dg` project: `dg check defs` passes and `dg list defs` shows the snapshot's assets."""
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBSPOT_")}
    env |= {
        "HUBSPOT_ACCESS_TOKEN": "pat-test",
        "HUBSPOT_EXPORT_URL": str(tmp_path / "export"),  # a store of its own: no account state
        "HUBSPOT_PARTITIONS_START": "2024-01-01",
        "DAGSTER_HOME": str(tmp_path),
    }
    dg_cli = str(Path(sys.executable).parent / "dg")
    check = subprocess.run([dg_cli, "check", "defs"], cwd=root, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
    assert "All definitions loaded successfully" in check.stdout + check.stderr
    listed = subprocess.run(
        [dg_cli, "list", "defs", "--json"], cwd=root, env=env, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr[-2000:]
    keys = {a["asset_key"] for a in json.loads(listed.stdout)["assets"]}
    assert keys == set(json.loads(SNAPSHOT.read_text(encoding="utf-8"))["assets"])
