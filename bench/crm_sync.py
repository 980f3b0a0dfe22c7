"""A full CRM sync plus the CRM tables of its day: API calls against the floor, seconds, peak RSS.

The sandbox runs in its own process (the CLI), so its memory and interpreter lock are not the
pipeline's. Each step then runs in a process of its own, as Dagster's multiprocess executor runs
each asset, and reports its peak RSS (`ru_maxrss`): `sync` (the definition tables the sync reads,
then the index sync), then OBJECTS, OBJECT_WITH_OBJECT_PROPERTIES, OBJECT_PROPERTIES,
OBJECT_PROPERTIES_HISTORY and ASSOCIATIONS with their checks, all into one local folder.

    .venv/bin/python bench/crm_sync.py [--scale medium] [--wide] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta

from hubspot_sandbox.__main__ import READY_PREFIX

TOKEN = "pat-bench"
START = date(2026, 3, 1)
STEPS = (
    "sync",
    "OBJECTS",
    "OBJECT_WITH_OBJECT_PROPERTIES",
    "OBJECT_PROPERTIES",
    "OBJECT_PROPERTIES_HISTORY",
    "ASSOCIATIONS",
)


def step(name: str, base_url: str, root: str) -> dict[str, object]:
    """One step in this process; returns its figures."""
    from hubspot_pipeline.hubspot import HubSpotClient
    from hubspot_pipeline.store import LocalDestination
    from hubspot_pipeline.sync.full_sync import sync_plan
    from hubspot_pipeline.sync.index_sync import sync_index
    from hubspot_pipeline.tables.context import ExportContext
    from hubspot_pipeline.tables.export import export_spec
    from hubspot_pipeline.tables.registry import SPECS, SYNC_DEFINITION_TABLES

    # no pacing: the sandbox's limits are off, and the figure is the pipeline's own time
    client = HubSpotClient(base_url, TOKEN, rate_limit_per_10s=1_000_000)
    ctx = ExportContext(START - timedelta(days=1), LocalDestination(root), "bench001", lambda: client)
    started, cpu = time.perf_counter(), time.process_time()
    figures: dict[str, object] = {}
    if name == "sync":
        for table in SYNC_DEFINITION_TABLES:
            export_spec(ctx, SPECS[table])
        plan = sync_plan(*(ctx.snapshot(s).data for s in ("schemas", "properties", "association_labels")))
        outcome = sync_index(ctx.destination, ctx.as_of, ctx.run_id, lambda: client, lambda: plan)
        # with --keep on a folder already synced, the sync is skipped: its figures are the index's
        generation = outcome.generation or outcome.manifest.generations[0]
        live = generation.stats["live_records"]
        figures |= {
            "api_calls": generation.stats["api_calls"],
            "api_calls_floor": generation.stats["api_calls_floor"],
            "reused_index": not outcome.synced,
        }
        figures["rows"] = sum(live.values())  # type: ignore[attr-defined]
    else:
        result = export_spec(ctx, SPECS[name])
        figures["rows"] = result.main.result.rows
        figures["checks_passed"] = all(c.passed for c in result.checks)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    figures["cpu_s"] = round(time.process_time() - cpu, 1)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--wide", action="store_true")
    parser.add_argument("--keep", help="export into this folder and keep it (default: a temp folder)")
    parser.add_argument("--step", nargs=3, metavar=("NAME", "BASE_URL", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(step(*args.step)), flush=True)
        return 0
    command = [
        sys.executable,
        "-m",
        "hubspot_sandbox",
        "serve",
        "--port",
        "0",
        "--scale",
        args.scale,
    ]
    command += ["--token", TOKEN, "--start-date", START.isoformat(), *(["--wide"] if args.wide else [])]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    results: dict[str, dict] = {}
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith(READY_PREFIX):
            raise RuntimeError(f"sandbox did not start: {line!r}")
        base_url = line[len(READY_PREFIX) :].strip()
        with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
            for name in STEPS:
                proc = subprocess.run(
                    [sys.executable, __file__, "--step", name, base_url, args.keep or tmp],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if proc.returncode != 0:
                    print(proc.stderr[-4000:], file=sys.stderr)
                    return 1
                results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.wait(timeout=60)
    sync = results["sync"]
    calls, floor = sync["api_calls"], sync["api_calls_floor"]
    print(f"scale={args.scale}{' wide' if args.wide else ''} live_records={sync['rows']}")
    print(f"api_calls={calls} floor={floor} over_floor={100 * (calls - floor) / max(floor, 1):.1f}%")
    for name, r in results.items():
        checks = "" if name == "sync" else f" checks_passed={r['checks_passed']}"
        print(
            f"  {name}: rows={r['rows']} seconds={r['seconds']} cpu_s={r['cpu_s']} "
            f"peak_rss_mb={r['peak_rss_mb']}{checks}"
        )
    print(f"total_seconds={sum(r['seconds'] for r in results.values()):.0f}")
    print(f"peak_rss_mb={max(r['peak_rss_mb'] for r in results.values())} (the largest step)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
