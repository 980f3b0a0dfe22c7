"""Runs whose process is gone are marked failed and give back their pool slots.

A run killed by SIGKILL, the OOM killer or a lost machine never reports its end: it stays STARTED
and keeps its claim on the one-slot `hubspot_api` pool, so every later run waits for that slot
forever. Dagster's run monitoring frees the slots of runs that *ended* (`dagster.yaml`), but it
cannot tell that a run launched by the default launcher or by `dagster asset materialize` died.

`fail_dead_runs` can: every HubSpot step tags its run with the host it runs on (`HOST_TAG`, set by
`HubSpotResource`), and the executor logs its process id when it starts. A STARTED run of this host
whose executor process no longer exists is marked failed, with a message saying so, and its
concurrency slots are freed, and so is a run whose executor is alive.

A run of another host cannot be seen from here, so while a run uses HubSpot it beats: a thread
rewrites the run's `HEARTBEAT_TAG` (epoch seconds) every `HEARTBEAT_S` (`Heartbeat`). A STARTED run
of another host whose last beat is older than `LOST_AFTER_S` lost its machine (or its process hung
past any use): it is failed and its slots freed the same way. A run of another host with no beat
at all (started by an older version) is left alone.

It runs wherever the code location loads (`definitions.py`): in `make run`, in every run worker
(the CLI's and the UI's alike, with or without the daemon) and in the webserver and daemon, so the
next run of any kind finds the dead one before its steps wait for the pool.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

import dagster as dg

HOST_TAG = "hubspot/host"
HEARTBEAT_TAG = "hubspot/heartbeat"
HEARTBEAT_S = 30.0
# ten missed beats: a busy instance database can delay a few, a lost machine misses them all
LOST_AFTER_S = 10 * HEARTBEAT_S
log = logging.getLogger(__name__)


class Heartbeat:
    """Rewrites a run's heartbeat tag every `interval` seconds from a daemon thread, the first beat at
    once; `stop()` ends it. A failed write is logged and retried at the next beat (a locked SQLite
    database must not fail the run)."""

    def __init__(
        self,
        instance: dg.DagsterInstance,
        run_id: str,
        interval: float = HEARTBEAT_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._instance, self._run_id, self._interval, self._clock = instance, run_id, interval, clock
        self._stopped = threading.Event()
        self.beats = 0
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{run_id[:8]}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._instance.add_run_tags(self._run_id, {HEARTBEAT_TAG: f"{self._clock():.0f}"})
                self.beats += 1
            except Exception:
                log.warning("could not write the heartbeat of run %s", self._run_id, exc_info=True)
            self._stopped.wait(self._interval)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)


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
    now: float | None = None,
) -> list[str]:
    """Mark failed the STARTED runs of this host whose executor is gone, and those of other hosts
    whose heartbeat stopped; free their slots. Returns their run ids."""
    host = host or socket.gethostname()
    now = time.time() if now is None else now
    failed = []
    for run in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        why = _why_dead(instance, run, host, alive, now)
        if why is None:
            continue
        message = (
            f"run {run.run_id} was still marked started, but {why}. Marked failed and its pool slots "
            "freed, so later runs can proceed; re-run its partitions."
        )
        instance.report_run_failed(run, message)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        log.warning(message)
        failed.append(run.run_id)
    return failed


def _why_dead(
    instance: dg.DagsterInstance, run: dg.DagsterRun, host: str, alive: Callable[[int], bool], now: float
) -> str | None:
    """Why a STARTED run is dead, or None when it may be alive (or cannot be told)."""
    its_host = run.tags.get(HOST_TAG)
    if its_host is None:
        return None
    if its_host == host:
        pid = executor_pid(instance, run.run_id)
        if pid is None or alive(pid):
            return None
        return (
            f"its process (pid {pid} on {host}) is gone: it was killed (SIGKILL, out of memory) or its "
            "machine was lost"
        )
    try:
        beat = float(run.tags.get(HEARTBEAT_TAG, ""))
    except ValueError:
        return None
    if now - beat <= LOST_AFTER_S:
        return None
    return (
        f"its host {its_host} has sent no heartbeat for {now - beat:.0f} s (last at "
        f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(beat))}): its machine was lost or its "
        "process hung"
    )


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
