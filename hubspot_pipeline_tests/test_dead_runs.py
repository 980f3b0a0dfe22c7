"""A run SIGKILLed inside a HubSpot step never wedges the next one: the next `dagster asset
materialize` finds it, marks it failed with a message that says why, frees its pool slot, and ends in
the same export as a run that was never interrupted."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from hubspot_pipeline.defs.dead_runs import HEARTBEAT_TAG, HOST_TAG, LOST_AFTER_S, Heartbeat, fail_dead_runs
from hubspot_pipeline.defs.resources import HubSpotResource
from hubspot_pipeline.store import LocalDestination, read_table
from hubspot_sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.slow

DAY = "2026-11-10"
TOKEN = "pat-dead-runs"
ROOT = Path(__file__).resolve().parents[1]
SELECT = "+hubspot/objects"  # the definitions, the index sync (the longest HubSpot step), OBJECTS
POOL = "hubspot_api"


def environment(home: Path, export: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBSPOT_")}
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    return env | {
        "DAGSTER_HOME": str(home),
        "HUBSPOT_ACCESS_TOKEN": TOKEN,
        "HUBSPOT_API_BASE_URL": base_url,
        "HUBSPOT_EXPORT_URL": str(export),
    }


def materialize(env: dict[str, str]) -> subprocess.Popen:
    dagster = str(Path(sys.executable).parent / "dagster")
    cmd = [dagster, "asset", "materialize", "-m", "hubspot_pipeline.definitions", "--select", SELECT]
    return subprocess.Popen(
        [*cmd, "--partition", DAY],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, killed whole below
    )


def holder_of_the_pool(home: Path) -> str | None:
    """The step holding the HubSpot pool's slot in a run tagged with its host, if any."""
    os.environ["DAGSTER_HOME"] = str(home)
    with dg.DagsterInstance.get() as instance:
        claimed = instance.event_log_storage.get_concurrency_info(POOL).claimed_slots
        for slot in claimed:
            run = instance.get_run_by_id(slot.run_id)
            if run is not None and HOST_TAG in run.tags:
                return slot.step_key
    return None


def objects(export: Path) -> set[tuple]:
    table = read_table(LocalDestination(export), DAY, "OBJECTS")
    kept = [c for c in table.column_names if c != "INGESTEDAT"]
    return set(zip(*(table.column(c).to_pylist() for c in kept), strict=True))


def test_a_run_killed_inside_a_hubspot_step_does_not_block_the_next(tmp_path: Path) -> None:
    config = SandboxConfig(seed=4, scale="tiny", token=TOKEN, start_date=date(2026, 11, 10))
    with Sandbox(config) as sb:
        sb.advance(days=1)
        env = environment(tmp_path / "home", tmp_path / "export", sb.base_url)
        first = materialize(env)
        deadline, step = time.monotonic() + 300, None
        while step != "hubspot__crm_index" and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
            step = holder_of_the_pool(tmp_path / "home")
        assert step == "hubspot__crm_index", "the run never reached the index sync"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        with dg.DagsterInstance.get() as instance:
            (killed,) = instance.get_runs()
            assert killed.status == dg.DagsterRunStatus.STARTED  # nothing told Dagster it died
        second = materialize(env)
        try:
            output, _ = second.communicate(timeout=600)
        finally:
            if second.poll() is None:
                os.killpg(second.pid, signal.SIGKILL)
        assert second.returncode == 0, output[-4000:]
        with dg.DagsterInstance.get() as instance:
            run = instance.get_run_by_id(killed.run_id)
            assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
            failures = [
                r.message for r in instance.all_logs(killed.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
            ]
            assert any("its process" in m and "is gone" in m for m in failures), failures
            assert instance.event_log_storage.get_concurrency_info(POOL).claimed_slots == []
    with Sandbox(config) as clean:
        clean.advance(days=1)
        env = environment(tmp_path / "home2", tmp_path / "export2", clean.base_url)
        output, _ = materialize(env).communicate(timeout=600)
    assert objects(tmp_path / "export") == objects(tmp_path / "export2")
    assert objects(tmp_path / "export")


@dg.asset
def one() -> int:
    return 1


def started_runs(instance: dg.DagsterInstance, tags: dict[str, dict[str, str]]) -> dict[str, str]:
    """A run per name with its tags, left as a killed run leaves it: started, never ended, holding a
    slot of the pool."""
    runs = {}
    for name, run_tags in tags.items():
        run_id = dg.materialize([one], instance=instance, tags=run_tags).run_id
        run = instance.get_run_by_id(run_id)
        assert run is not None
        instance.run_storage.handle_run_event(
            run_id, dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name=run.job_name)
        )
        runs[name] = run_id
    instance.event_log_storage.set_concurrency_slots(POOL, len(runs))
    for run_id in runs.values():
        instance.event_log_storage.claim_concurrency_slot(POOL, run_id, "one")
    return runs


def test_only_started_runs_of_this_host_whose_process_is_gone_are_failed(tmp_path: Path) -> None:
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        runs = started_runs(instance, {"here": {HOST_TAG: "this-host"}, "there": {HOST_TAG: "other-host"}})

        def status(name: str) -> dg.DagsterRunStatus:
            run = instance.get_run_by_id(runs[name])
            assert run is not None
            return run.status

        assert status("here") == status("there") == dg.DagsterRunStatus.STARTED
        assert fail_dead_runs(instance, host="this-host", alive=lambda pid: pid == os.getpid()) == []
        assert fail_dead_runs(instance, host="this-host", alive=lambda pid: False) == [runs["here"]]
        assert (status("here"), status("there")) == (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.STARTED)
        claimed = instance.event_log_storage.get_concurrency_info(POOL).claimed_slots
        assert [c.run_id for c in claimed] == [runs["there"]]


def test_a_run_of_another_host_is_failed_once_its_heartbeat_stops(tmp_path: Path) -> None:
    now = 1_800_000_000.0
    beats = {"fresh": now - 60, "stale": now - LOST_AFTER_S - 1, "none": None}
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        tags = {
            name: {HOST_TAG: "lost-host"} | ({HEARTBEAT_TAG: f"{beat:.0f}"} if beat is not None else {})
            for name, beat in beats.items()
        }
        runs = started_runs(instance, tags)
        assert fail_dead_runs(instance, host="this-host", now=now) == [runs["stale"]]
        failures = [
            r.message for r in instance.all_logs(runs["stale"], of_type=dg.DagsterEventType.RUN_FAILURE)
        ]
        assert any("lost-host has sent no heartbeat for 301 s" in m for m in failures), failures
        claimed = instance.event_log_storage.get_concurrency_info(POOL).claimed_slots
        assert sorted(c.run_id for c in claimed) == sorted([runs["fresh"], runs["none"]])
        # a minute later the fresh one is still within its allowance; far later it is lost too
        assert fail_dead_runs(instance, host="this-host", now=now + 60) == []
        assert fail_dead_runs(instance, host="this-host", now=now + LOST_AFTER_S) == [runs["fresh"]]


def test_a_run_using_hubspot_beats_until_it_ends(tmp_path: Path) -> None:
    seen: dict[str, str | None] = {}

    @dg.asset
    def uses_hubspot(context, hubspot: HubSpotResource) -> None:  # type: ignore[no-untyped-def]
        run = context.instance.get_run_by_id(context.run.run_id)
        assert run is not None
        seen["host"], seen["beat"] = run.tags.get(HOST_TAG), run.tags.get(HEARTBEAT_TAG)

    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        hubspot = HubSpotResource(access_token="pat-x", pace_file=str(tmp_path / "pace"))
        assert dg.materialize([uses_hubspot], instance=instance, resources={"hubspot": hubspot}).success
    assert seen["host"] == socket.gethostname()
    assert seen["beat"] is not None and abs(float(seen["beat"]) - time.time()) < 3600


def test_the_heartbeat_writes_its_clock_and_stops(tmp_path: Path) -> None:
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        run_id = dg.materialize([one], instance=instance).run_id
        beat = Heartbeat(instance, run_id, interval=3600, clock=lambda: 1234.0)
        deadline = time.monotonic() + 60  # a bound on waiting for the first beat, not a speed
        while beat.beats == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        beat.stop()
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.tags[HEARTBEAT_TAG] == "1234"
        assert beat.beats == 1  # stopped before the next beat was due
