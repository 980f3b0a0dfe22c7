"""`make run` and `make ui`: export yesterday (or open the UI), against HubSpot or the built-in sandbox.

With HUBSPOT_ACCESS_TOKEN set, the code location talks to HUBSPOT_API_BASE_URL (default the real API).
Without it, a sandbox account (scale `small`) is started as a separate process on a free loopback port
and the export goes to ./hubspot-export unless HUBSPOT_EXPORT_URL says otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hubspot_pipeline.defs.resources import DEFAULT_EXPORT_URL
from hubspot_pipeline.store import list_tables, open_destination, read_manifest

SANDBOX_TOKEN = "pat-sandbox"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def sandbox_process(scale: str, start_date: date) -> Iterator[str]:
    """A sandbox server in its own process; yields its base URL once it answers."""
    port = free_port()
    cmd = [sys.executable, "-m", "hubspot_sandbox", "serve", "--port", str(port), "--scale", scale]
    cmd += ["--seed", "1", "--token", SANDBOX_TOKEN, "--start-date", start_date.isoformat()]
    # the sandbox is not in the wheel: it runs from the repository root
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if proc.poll() is not None or "http" not in line:
            raise SystemExit(f"the sandbox did not start (exit code {proc.poll()}): {line.strip()}")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def export_env(base_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home"))
    env.setdefault("HUBSPOT_EXPORT_URL", DEFAULT_EXPORT_URL)
    if base_url is not None:
        env["HUBSPOT_ACCESS_TOKEN"] = SANDBOX_TOKEN
        env["HUBSPOT_API_BASE_URL"] = base_url
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    return env


def materialize(day: date, env: dict[str, str]) -> int:
    cmd = ["dagster", "asset", "materialize", "-m", "hubspot_pipeline.definitions"]
    cmd += ["--select", "*", "--partition", day.isoformat()]
    return subprocess.call([str(Path(sys.executable).parent / cmd[0]), *cmd[1:]], env=env, cwd=ROOT)


def api_calls_by_table(day: date, env: dict[str, str]) -> dict[str, int]:
    """API calls each asset reported for the day's latest materialisation (from the Dagster instance)."""
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    import dagster as dg

    from hubspot_pipeline.defs.assets import table_assets
    from hubspot_pipeline.defs.sync_asset import crm_index

    out: dict[str, int] = {}
    with dg.DagsterInstance.get() as instance:
        for asset in [crm_index, *table_assets]:
            for key in asset.keys:
                result = instance.fetch_materializations(
                    dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day.isoformat()]), limit=1
                )
                if result.records:
                    meta = result.records[0].asset_materialization.metadata  # type: ignore[union-attr]
                    calls = meta.get("api_calls")
                    out[key.path[-1].upper()] = int(calls.value) if calls is not None else 0
    return out


def summary(day: date, env: dict[str, str]) -> str:
    dest = open_destination(env["HUBSPOT_EXPORT_URL"])
    calls = api_calls_by_table(day, env)
    rows = []
    for table in list_tables(dest, day.isoformat()):
        m = read_manifest(dest, day.isoformat(), table) or {}
        parts = m.get("parts", [])
        rows.append(
            (table, m.get("rows", 0), len(parts), sum(p["bytes"] for p in parts), calls.get(table, ""))
        )
    if "CRM_INDEX" in calls:
        rows.append(("(CRM index sync)", "", "", "", calls["CRM_INDEX"]))
    rows.append(("total", "", "", "", sum(calls.values())))
    width = max([len(r[0]) for r in rows] + [5])
    lines = [f"{'table':<{width}}  {'rows':>9}  {'parts':>5}  {'bytes':>11}  {'api calls':>9}"]
    lines += [f"{t:<{width}}  {r:>9}  {p:>5}  {b:>11}  {c!s:>9}" for t, r, p, b, c in rows]
    lines.append(f"written to {dest.url_for(day.isoformat())}/")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ui", action="store_true", help="open the Dagster UI instead of exporting")
    parser.add_argument(
        "--partition", type=date.fromisoformat, help="day to export (default: yesterday, UTC)"
    )
    parser.add_argument("--scale", default="small", help="sandbox scale when no token is set")
    args = parser.parse_args(argv)
    today = datetime.now(UTC).date()
    day = args.partition or today - timedelta(days=1)
    with contextlib.ExitStack() as stack:
        base_url = None
        if not os.environ.get("HUBSPOT_ACCESS_TOKEN"):
            base_url = stack.enter_context(sandbox_process(args.scale, today))
            print(f"no HUBSPOT_ACCESS_TOKEN: using the sandbox account at {base_url}", flush=True)
        env = export_env(base_url)
        if args.ui:
            dagster_dev = str(Path(sys.executable).parent / "dagster")
            return subprocess.call([dagster_dev, "dev", "-w", "workspace.yaml"], env=env, cwd=ROOT)
        status = materialize(day, env)
        print(summary(day, env))
        return status


if __name__ == "__main__":
    raise SystemExit(main())
