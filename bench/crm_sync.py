"""A full CRM sync plus the CRM tables of its day: API calls against the floor, seconds, peak RSS.

The sandbox runs in its own process (the CLI), so its memory and interpreter lock are not the
pipeline's; the pipeline runs in a child process whose peak RSS (`ru_maxrss`) is the figure: the
definition tables, the index sync, then OBJECTS, OBJECT_WITH_OBJECT_PROPERTIES, OBJECT_PROPERTIES,
OBJECT_PROPERTIES_HISTORY and ASSOCIATIONS with their checks, into a local folder.

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

from hubspot_pipeline.sandbox.__main__ import READY_PREFIX

TOKEN = "pat-bench"
START = date(2026, 3, 1)
DEFINITIONS = ("OBJECT_AND_EVENT_TYPE_DEFINITIONS", "PROPERTY_DEFINITIONS", "ASSOCIATION_DEFINITIONS")
CRM_TABLES = (
    "OBJECTS",
    "OBJECT_WITH_OBJECT_PROPERTIES",
    "OBJECT_PROPERTIES",
    "OBJECT_PROPERTIES_HISTORY",
    "ASSOCIATIONS",
)


def child(base_url: str, root: str) -> None:
    """The pipeline's side: prints one JSON line of figures."""
    from hubspot_pipeline.hubspot import HubSpotClient
    from hubspot_pipeline.store import LocalDestination
    from hubspot_pipeline.sync.full_sync import sync_index, sync_plan
    from hubspot_pipeline.tables.context import ExportContext
    from hubspot_pipeline.tables.export import export_spec
    from hubspot_pipeline.tables.registry import SPECS

    # no pacing: the sandbox's limits are off, and the figure is the pipeline's own time
    client = HubSpotClient(base_url, TOKEN, rate_limit_per_10s=1_000_000)
    ctx = ExportContext(START - timedelta(days=1), LocalDestination(root), "bench001", lambda: client)
    for name in DEFINITIONS:
        export_spec(ctx, SPECS[name])
    plan = sync_plan(*(ctx.snapshot(s).data for s in ("schemas", "properties", "association_labels")))
    started = time.perf_counter()
    outcome = sync_index(ctx.destination, ctx.as_of, ctx.run_id, lambda: client, lambda: plan)
    figures: dict[str, object] = {
        "sync_seconds": round(time.perf_counter() - started, 1),
        "api_calls": outcome.api_calls,
        "api_calls_floor": outcome.api_calls_floor,
        "records": sum(outcome.generation.stats["live_records"].values()) if outcome.generation else 0,  # type: ignore[union-attr]
        "sync_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "tables": {},
    }
    for name in CRM_TABLES:
        started = time.perf_counter()
        result = export_spec(ctx, SPECS[name])
        figures["tables"][name] = {  # type: ignore[index]
            "rows": result.main.result.rows,
            "seconds": round(time.perf_counter() - started, 1),
            "checks_passed": all(c.passed for c in result.checks),
        }
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--wide", action="store_true")
    parser.add_argument("--keep", help="export into this folder and keep it (default: a temp folder)")
    parser.add_argument("--child", nargs=2, metavar=("BASE_URL", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    command = [
        sys.executable,
        "-m",
        "hubspot_pipeline.sandbox",
        "serve",
        "--port",
        "0",
        "--scale",
        args.scale,
    ]
    command += ["--token", TOKEN, "--start-date", START.isoformat(), *(["--wide"] if args.wide else [])]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith(READY_PREFIX):
            raise RuntimeError(f"sandbox did not start: {line!r}")
        base_url = line[len(READY_PREFIX) :].strip()
        with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
            root = args.keep or tmp
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, __file__, "--child", base_url, root],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                print(proc.stderr[-4000:], file=sys.stderr)
                return 1
            figures = json.loads(proc.stdout.strip().splitlines()[-1])
            total = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=60)
    calls, floor = figures["api_calls"], figures["api_calls_floor"]
    print(f"scale={args.scale}{' wide' if args.wide else ''} records={figures['records']}")
    print(f"api_calls={calls} floor={floor} over_floor={100 * (calls - floor) / max(floor, 1):.1f}%")
    print(f"sync_seconds={figures['sync_seconds']} total_seconds={total:.0f}")
    for name, t in figures["tables"].items():
        print(f"  {name}: rows={t['rows']} seconds={t['seconds']} checks_passed={t['checks_passed']}")
    print(f"peak_rss_mb={figures['peak_rss_mb']} (after the sync alone: {figures['sync_peak_rss_mb']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
