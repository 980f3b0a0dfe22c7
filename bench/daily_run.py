"""A day of the whole code location as `make run` does it: wall time a user waits, and CPU seconds.

Runs `python -m hubspot_pipeline.run` (the sandbox account at `--scale`, a fresh DAGSTER_HOME and
export folder) for yesterday: the first run is the account's first day (definitions, the full CRM sync,
every table, the account-state refresh); the second re-runs the same day (every table re-exported, no
HubSpot call for what the store already holds). Prints both and writes them as JSON.

    python bench/daily_run.py --scale small --json bench/results/daily_run.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed_run(env: dict[str, str], scale: str) -> dict[str, float | int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "hubspot_pipeline.run", "--scale", scale],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"the run failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    total = next((line for line in proc.stdout.splitlines() if line.startswith("total")), "")
    calls = int(total.split()[-1]) if total else -1
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "api_calls": calls}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="small")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="daily-run-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "AWS_"))}
        env.update(DAGSTER_HOME=str(Path(tmp) / "home"), HUBSPOT_EXPORT_URL=str(Path(tmp) / "export"))
        Path(env["DAGSTER_HOME"]).mkdir()
        (Path(env["DAGSTER_HOME"]) / "dagster.yaml").write_bytes((ROOT / "dagster.yaml").read_bytes())
        first = timed_run(env, args.scale)
        again = timed_run(env, args.scale)
    figures = {"scale": args.scale, "first_day": first, "same_day_again": again}
    print(
        f"make run at {args.scale}, first day (full sync): {first['wall_s']} s wall, {first['cpu_s']} CPU s, {first['api_calls']} calls"
    )
    print(
        f"make run at {args.scale}, the same day again:    {again['wall_s']} s wall, {again['cpu_s']} CPU s, {again['api_calls']} calls"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
