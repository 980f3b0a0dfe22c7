"""Runs whose process is gone are marked failed and give back their pool slots.

A run killed by SIGKILL, the OOM killer or a lost machine never reports its end: it stays STARTED
and keeps its claim on the one-slot `hubspot_api` pool, so every later run waits for that slot
forever. Dagster's run monitoring frees the slots of runs that *ended* (`dagster.yaml`), but it
cannot tell that a run launched by the default launcher or by `dagster asset materialize` died.

`fail_dead_runs` can: every HubSpot step tags its run with the host it runs on (`HOST_TAG`, set by
`HubSpotResource`), and the executor logs its process id when it starts. A STARTED run of this host
whose executor process no longer exists is marked failed, with a message saying so, and its
concurrency slots are freed. Runs of other hosts are left alone (their processes cannot be seen
from here), and so is a run whose executor is alive.

It runs wherever the code location loads (`definitions.py`): in `make run`, in every run worker
(the CLI's and the UI's alike, with or without the daemon) and in the webserver and daemon, so the
next run of any kind finds the dead one before its steps wait for the pool.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable

import dagster as dg

HOST_TAG = "hubspot/host"
log = logging.getLogger(__name__)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def executor_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid the run's executor logged when it started ("Executing steps ... (pid: N)")."""
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = record.dagster_event
        data = event.event_specific_data if event is not None else None
        metadata = getattr(data, "metadata", None) or {}
        if "pid" in metadata and (record.message or "").startswith("Executing steps"):
            return int(metadata["pid"].value)
    return None


def fail_dead_runs(
    instance: dg.DagsterInstance,
    *,
    host: str | None = None,
    alive: Callable[[int], bool] = process_alive,
) -> list[str]:
    """Mark failed the STARTED runs of this host whose executor is gone; free their slots. Returns
    their run ids."""
    host = host or socket.gethostname()
    failed = []
    for run in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        if run.tags.get(HOST_TAG) != host:
            continue
        pid = executor_pid(instance, run.run_id)
        if pid is None or alive(pid):
            continue
        message = (
            f"run {run.run_id} was still marked started, but its process (pid {pid} on {host}) is gone: "
            "it was killed (SIGKILL, out of memory) or its machine was lost. Marked failed and its "
            "pool slots freed, so later runs can proceed; re-run its partitions."
        )
        instance.report_run_failed(run, message)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        log.warning(message)
        failed.append(run.run_id)
    return failed


def fail_dead_runs_of_this_instance() -> list[str]:
    """`fail_dead_runs` on the instance of DAGSTER_HOME, when there is one; never fails a load."""
    if not os.environ.get("DAGSTER_HOME"):
        return []
    try:
        with dg.DagsterInstance.get() as instance:
            return fail_dead_runs(instance)
    except Exception:  # a broken or busy instance must not stop the code location from loading
        log.warning("could not check for dead runs", exc_info=True)
        return []
