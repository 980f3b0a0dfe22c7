"""`make run`, `make ui` and `make refresh`: export yesterday (or open the UI, or refresh the account
state), against HubSpot or the built-in sandbox.

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

from hubspot_pipeline.defs.account import DEFAULT_ACCOUNT
from hubspot_pipeline.defs.resources import DEFAULT_EXPORT_URL
from hubspot_pipeline.store import list_tables, open_destination, read_manifest

SANDBOX_TOKEN = "pat-sandbox"
KEY_PREFIX = DEFAULT_ACCOUNT.key_prefix
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


def _tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def materialize(day: date, env: dict[str, str]) -> int:
    cmd = [_tool("dagster"), "asset", "materialize", "-m", "hubspot_pipeline.definitions"]
    cmd += ["--select", "*", "--partition", day.isoformat()]
    return subprocess.call(cmd, env=env, cwd=ROOT)


def refresh(env: dict[str, str]) -> int:
    """Refresh every account's state (`defs.account_component`) from its export store."""
    return subprocess.call(
        [sys.executable, "-m", "hubspot_pipeline.defs.account_component"], env=env, cwd=ROOT
    )


def api_calls_by_table(day: date, env: dict[str, str]) -> dict[str, int]:
    """API calls each asset reported for the day's latest materialisation (from the Dagster instance)."""
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    import dagster as dg

    out: dict[str, int] = {}
    with dg.DagsterInstance.get() as instance:
        for key in instance.get_asset_keys(prefix=[KEY_PREFIX]):
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
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="only refresh the account state (which per-type tables get an asset)",
    )
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
            return subprocess.call([_tool("dg"), "dev"], env=env, cwd=ROOT)
        if args.refresh:
            return refresh(env)
        status = materialize(day, env)
        print(summary(day, env))
        # the day's store now describes the account: the per-type tables get their assets (no call)
        return status or refresh(env)


if __name__ == "__main__":
    raise SystemExit(main())
