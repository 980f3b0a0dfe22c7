"""API calls of a daily incremental run next to those of a full sync, at the sandbox's normal churn.

Day 0: definition tables and a full sync into a local folder. Then, per day, `advance(1)` and the
daily run (definitions, then the incremental sync with the deployment's settings from the
environment: `HUBSPOT_ASSOCIATION_REFRESH_DAYS`, `HUBSPOT_CALCULATED_REFRESH_DAYS`, default 7; the
definitions on their refresh cadence, `HUBSPOT_DEFINITIONS_REFRESH_DAYS`, default 7, so
`definition_calls` are the cadence's: see bench/daily_job.py for the whole job).
Prints the calls of each, by endpoint, and the daily run's share of the full sync (target: <= 5 %
at medium). Also what the exact setting (K = 1) would add per day: the lead-direction association
rescan and the re-read of every calculated property with its history.

    .venv/bin/python bench/crm_incremental.py [--scale small|medium] [--days 2]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
from collections import Counter
from datetime import date, timedelta

from hubspot_pipeline import settings as pipeline_settings
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import LocalDestination
from hubspot_pipeline.sync.association_refresh import lead_pairs
from hubspot_pipeline.sync.full_sync import ASSOCIATION_BATCH, BATCH_READ, sync_plan
from hubspot_pipeline.sync.incremental import IncrementalSettings
from hubspot_pipeline.sync.index_sync import sync_index
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.export import export_spec
from hubspot_pipeline.tables.registry import SPECS, SYNC_DEFINITION_TABLES
from hubspot_sandbox import Sandbox, SandboxConfig

TOKEN = "pat-bench"
START = date(2026, 3, 1)
DEFINITIONS = SYNC_DEFINITION_TABLES
REFRESH_DAYS = int(
    os.environ.get("HUBSPOT_DEFINITIONS_REFRESH_DAYS")
    or pipeline_settings.SETTINGS["HUBSPOT_DEFINITIONS_REFRESH_DAYS"].default
)


def run_day(sb: Sandbox, root: str, day: date, settings: IncrementalSettings) -> dict[str, object]:
    """One day's sync (definitions, then the index); its calls by endpoint, the sync's alone apart."""
    client = HubSpotClient(sb.base_url, TOKEN, rate_limit_per_10s=1_000_000)
    ctx = ExportContext(
        day, LocalDestination(root), f"bench{day:%m%d}", lambda: client, definitions_refresh_days=REFRESH_DAYS
    )
    for table in DEFINITIONS:
        export_spec(ctx, SPECS[table])
    plan = sync_plan(*(ctx.snapshot(s).data for s in ("schemas", "properties", "association_labels")))
    before = Counter(client.calls)
    started = time.perf_counter()
    outcome = sync_index(
        ctx.destination, ctx.as_of, ctx.run_id, lambda: client, lambda: plan, settings=settings
    )
    assert outcome.generation is not None
    calls = Counter(client.calls)
    calls.subtract(before)
    return {
        "kind": outcome.generation.kind,
        "sync_calls": sum(calls.values()),
        "definition_calls": sum(before.values()),
        "seconds": round(time.perf_counter() - started, 1),
        "by_endpoint": {k: v for k, v in sorted(calls.items()) if v},
        "stats": outcome.generation.stats.get("types") or outcome.generation.stats.get("live_records"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--days", type=int, default=2)
    args = parser.parse_args()
    settings = IncrementalSettings.from_env()
    with (
        tempfile.TemporaryDirectory() as root,
        Sandbox(SandboxConfig(seed=1, scale=args.scale, token=TOKEN, start_date=START)) as sb,
    ):
        full = run_day(sb, root, START - timedelta(days=1), settings)
        live = full["stats"]
        print(json.dumps({"scale": args.scale, "full": full}, indent=1))
        # the exact setting (K = 1): every lead direction whole, every calculated record with history
        plan = sync_plan(
            *(
                ExportContext(START - timedelta(days=1), LocalDestination(root), "x", lambda: None)
                .snapshot(s)
                .data  # type: ignore[arg-type,return-value]
                for s in ("schemas", "properties", "association_labels")
            )
        )

        def count(type_id: str) -> int:
            return int(live.get(type_id, 0))  # type: ignore[union-attr]

        rescan = sum(
            math.ceil(count(lead[0]) / ASSOCIATION_BATCH) for lead, _ in lead_pairs(plan.pairs, count)
        )
        calculated = sum(math.ceil(count(t) / BATCH_READ) for t, names in plan.calculated.items() if names)
        for n in range(args.days):
            sb.advance(days=1)
            daily = run_day(sb, root, START + timedelta(days=n), settings)
            share = 100 * daily["sync_calls"] / full["sync_calls"]  # type: ignore[operator]
            print(json.dumps({"day": n + 1, "daily": daily, "share_of_full_pct": round(share, 2)}, indent=1))
        print(
            json.dumps(
                {
                    "full_sync_calls": full["sync_calls"],
                    "exact_association_rescan_calls_per_day": rescan,
                    "exact_calculated_reread_calls_per_day": calculated,
                    "exact_share_of_full_pct": round(100 * (rescan + calculated) / full["sync_calls"], 2),  # type: ignore[operator]
                    "settings": {
                        "association_refresh_days": settings.association_refresh_days,
                        "calculated_refresh_days": settings.calculated_refresh_days,
                        "lookback_minutes": settings.lookback.total_seconds() / 60,
                        "definitions_refresh_days": REFRESH_DAYS,
                    },
                }
            )
        )


if __name__ == "__main__":
    main()
