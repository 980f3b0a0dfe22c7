"""API calls of the whole daily job (every table and the CRM index), first full run then daily runs.

Day 0 runs the daily job on an empty store (definitions fetched, the index synced in full); then, per
day, `advance(1)` and the daily job again. Each asset runs as the Dagster job's does: the definition
tables the index plans from, `crm_index` (`sync_index` with the deployment's incremental settings
from the environment), then every other table in `TABLES` order, each through `export_spec` with its
own `ExportContext` (`HUBSPOT_DEFINITIONS_REFRESH_DAYS` from the environment, default 7). Prints and
writes (`--json`) per day: total calls, calls per asset, calls per endpoint (the sandbox's counter) and
the day's share of the full run (target: <= 2 % at medium), and the day's floor (`day_floor`): the
calls no sync with a private app's token can go below for the changes the sandbox really made that day.

The exact mode (definitions every day, `HUBSPOT_DEFINITIONS_REFRESH_DAYS=1`, and the incremental
sync's `EXACT`) is measured for the definitions (each cadence source a day reused is fetched once more,
outside the store) and computed for the index as `bench/crm_incremental.py` does (the lead-direction
association rescan and the re-read of every calculated property).

    .venv/bin/python bench/daily_job.py [--scale small|medium] [--days 2] [--json PATH]
        [--reuse-day0 DIR] [--journal]

`--journal` reads HubSpot's webhooks journal in the index sync (an app's client credentials): the
first three daily runs search as without it (README, "Webhooks journal") and are run, not measured;
the `--days` after them are.

`--reuse-day0 DIR` saves the store after day 0 in DIR, or starts from DIR when it exists (the sandbox
is seeded, so its day 0 is the same): for iterating on the daily part only. The day-0 figures it then
prints are not measured, so do not quote figures from such a run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from hubspot_pipeline import settings as pipeline_settings
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import LocalDestination
from hubspot_pipeline.sync.association_refresh import lead_pairs
from hubspot_pipeline.sync.full_sync import ASSOCIATION_BATCH, BATCH_READ, LIST_PAGE, sync_plan
from hubspot_pipeline.sync.incremental import IncrementalSettings
from hubspot_pipeline.sync.index_sync import sync_index
from hubspot_pipeline.sync.journal import Journal, JournalApp
from hubspot_pipeline.sync.lists import MEMBERSHIP_PAGE
from hubspot_pipeline.sync.sources import CADENCE, SOURCES
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.export import export_spec
from hubspot_pipeline.tables.registry import SPECS, SYNC_DEFINITION_TABLES, TABLES
from hubspot_sandbox import Sandbox, SandboxConfig

TOKEN = "pat-bench"
START = date(2026, 3, 1)
HERE = Path(__file__).resolve().parent
DEFAULT_JSON = HERE / "results" / "daily_job.json"
TARGET_PCT = 2.0
APP = ("bench-journal-app", "bench-journal-secret")
JOURNAL_FILES = "GET /_journal/files/{offset}"
# with the journal, the first three daily runs search (README, "Webhooks journal"): run, not measured
JOURNAL_WARM_UP = 3


def refresh_days() -> int:
    setting = pipeline_settings.SETTINGS["HUBSPOT_DEFINITIONS_REFRESH_DAYS"]
    return int(os.environ.get("HUBSPOT_DEFINITIONS_REFRESH_DAYS") or setting.default)


def day_run(
    sb: Sandbox, root: str, day: date, k: int, settings: IncrementalSettings, journal: bool = False
) -> dict[str, Any]:
    """The daily job for `day`: calls per asset and per endpoint, plus what the exact definitions add.
    With `journal`, the index sync reads HubSpot's webhooks journal with the bench's app."""
    client = HubSpotClient(sb.base_url, TOKEN, rate_limit_per_10s=1_000_000)
    app, portal = JournalApp(*APP), sb.account.portal_id
    run_id = f"bench{day:%m%d}"

    def context() -> ExportContext:
        return ExportContext(day, LocalDestination(root), run_id, lambda: client, definitions_refresh_days=k)

    sb.reset_calls()
    started = time.perf_counter()
    per_asset: dict[str, int] = {}

    def measure(name: str, step: Any) -> Any:
        before = sb.total_calls()
        out = step()
        per_asset[name] = sb.total_calls() - before
        return out

    for table in SYNC_DEFINITION_TABLES:
        measure(table, lambda t=table: export_spec(context(), SPECS[t]))
    ctx = context()
    plan = sync_plan(*(ctx.snapshot(s).data for s in ("schemas", "properties", "association_labels")))

    def crm_index() -> Any:
        opened = (lambda c: Journal(c, app, portal)) if journal else None
        synced = sync_index(
            ctx.destination,
            ctx.as_of,
            run_id,
            lambda: client,
            lambda: plan,
            settings=settings,
            journal_factory=opened,
        )
        ctx.snapshot("other_objects")  # as the asset does: the types read outside the objects API
        return synced

    outcome = measure("crm_index", crm_index)
    for spec in TABLES:
        if spec.name not in SYNC_DEFINITION_TABLES:
            measure(spec.name, lambda s=spec: export_spec(context(), s))
    by_endpoint = dict(sorted(sb.calls.items()))
    seconds = round(time.perf_counter() - started, 1)

    # the exact mode's definitions: each cadence source the day reused, fetched once more (not saved)
    ctx = context()
    reused = [s for s in CADENCE if ctx.snapshot(s).copy_of is not None]
    before = sb.total_calls()
    for source in reused:
        needs, fetch = SOURCES[source]
        fetch(client, {name: ctx.snapshot(name).data for name in needs})
    exact_extra = sb.total_calls() - before
    generation = outcome.generation
    types = (generation.stats.get("types") or {}) if generation is not None else {}
    files = by_endpoint.get(JOURNAL_FILES, 0)
    return {
        "day": day.isoformat(),
        "kind": generation.kind if generation is not None else None,
        "total": sum(per_asset.values()),
        # the journal's entry files come from pre-signed URLs (S3 at HubSpot), not its API: in `total`, and apart
        "journal_files": files,
        "total_without_journal_files": sum(per_asset.values()) - files,
        "types_from_journal": sum(1 for t in types.values() if t.get("source") == "journal"),
        "types": len(types),
        "seconds": seconds,
        "per_asset": per_asset,
        "by_endpoint": by_endpoint,
        "definitions_reused": reused,
        "exact_definitions_extra_calls": exact_extra,
        "live_records": (generation.stats.get("live_records") if generation is not None else None),
        "plan": plan,
    }


def day_floor(sb: Sandbox, start_ms: int, end_ms: int) -> dict[str, Any]:
    """A lower bound on the calls a daily sync must make for the sandbox day [start_ms, end_ms).

    It counts only what HubSpot's documented API leaves no way around, for the changes the day really
    made (the sandbox's truth, not what the pipeline saw), and leaves out every safety net (the window
    count, the rotating scan, the reconciles), the definitions, owners, events and the other APIs'
    types. Any sync that reads with a private app's token and exports the day's records with their
    property history, the new records' associations and the day's list memberships and form
    submissions makes at least what follows. (HubSpot's webhooks journal, a change feed that could go
    below it, needs an app authorised with OAuth client credentials.)

    - per object type with a record created, updated, archived or merged that day: one search to find
      them (the search is the only "modified since" the objects API has), plus one batch read per 100 of
      its live changed records (search returns no property history; the batch read does, 100 a call);
    - per object type with new records: their associations towards each type they can be associated
      with, whichever is cheaper of one v4 batch read per target type and 1,000 records, or one page
      of 100 of `GET /crm/v3/objects/{type}?associations=...` (every target in one call) per 100 new
      records. The second is generous: it needs a cursor that starts past the records already held,
      which HubSpot does not document, and its v3 association types carry no label ids;
    - per manual list that lost a member that day: every page of it (250 a page), since no API lists a
      list's removals;
    - per form with a submission that day: one call (submissions are read per form).
    """
    acct = sb.account

    def within(stamps: np.ndarray) -> np.ndarray:
        return (stamps >= start_ms) & (stamps < end_ms)

    searches = history_reads = association_reads = 0
    targets: dict[str, set[str]] = {}
    for a, b in acct.edges:
        targets.setdefault(a, set()).add(b)
    for type_id, table in acct.tables.items():
        if not sb.is_activated(type_id):
            continue
        live = table.archived == 0
        changed = within(table.updated) | within(table.created) | within(table.archived)
        if not changed.any():
            continue
        searches += 1
        history_reads += math.ceil(int((changed & live).sum()) / BATCH_READ)
        new = int((within(table.created) & live).sum())
        reachable = [t for t in targets.get(type_id, ()) if sb.is_activated(t)]
        if new and reachable:
            association_reads += min(
                len(reachable) * math.ceil(new / ASSOCIATION_BATCH), math.ceil(new / LIST_PAGE)
            )
    list_pages = sum(
        math.ceil(len(lst.members) / MEMBERSHIP_PAGE)
        for lst in acct.lists_
        if lst.processing_type == "MANUAL" and start_ms <= lst.last_removed_ms < end_ms
    )
    forms = sum(int(within(s.times).any()) for s in acct.marketing.form_submissions.values())
    parts = {
        "change_searches": searches,
        "history_batch_reads": history_reads,
        "new_record_associations": association_reads,
        "manual_lists_with_removals_pages": list_pages,
        "forms_with_submissions": forms,
    }
    return {"total": sum(parts.values()), **parts}


def exact_index_extra(plan: Any, live: dict[str, Any]) -> dict[str, int]:
    """What the incremental sync's EXACT adds per day (as in bench/crm_incremental.py)."""

    def count(type_id: str) -> int:
        return int(live.get(type_id, 0) or 0)

    rescan = sum(math.ceil(count(lead[0]) / ASSOCIATION_BATCH) for lead, _ in lead_pairs(plan.pairs, count))
    calculated = sum(math.ceil(count(t) / BATCH_READ) for t, names in plan.calculated.items() if names)
    return {"association_rescan": rescan, "calculated_reread": calculated}


def amortized_day(
    full: dict[str, Any], daily: list[dict[str, Any]], k: int, settings: IncrementalSettings
) -> dict[str, Any]:
    """A day's calls averaged over the cycles the measured days may miss: the full reconcile (every
    live id listed, 100 per call, every `reconcile_every_days` days: computed from the full run's
    counts), the definitions refresh (the full run's definition calls, every `k` days) and the lists
    paged whole (every list at least every `k` days: the full run's list calls beyond a measured day's)."""
    live = full.get("live_records") or {}
    reconcile = sum(max(1, math.ceil(int(n) / 100)) for n in live.values())
    refresh = definitions_calls(full) - min((definitions_calls(r) for r in daily), default=0)
    lists = full["per_asset"]["LISTS"] - min((r["per_asset"]["LISTS"] for r in daily), default=0)
    measured = sum(r["total"] for r in daily) / len(daily) if daily else 0.0
    calls = measured + reconcile / settings.reconcile_every_days + (refresh + lists) / k
    return {
        "calls": round(calls, 1),
        "share_of_full_pct": round(100 * calls / full["total"], 3),
        "measured_mean": round(measured, 1),
        "reconcile_per_day": round(reconcile / settings.reconcile_every_days, 1),
        "definitions_refresh_per_day": round(refresh / k, 1),
        "lists_refresh_per_day": round(lists / k, 1),
    }


def definitions_calls(run: dict[str, Any]) -> int:
    return sum(run["per_asset"][t] for t in SYNC_DEFINITION_TABLES) + sum(
        run["per_asset"].get(t, 0) for t in ("OWNERS", "TEAMS", "OWNER_TEAM", "PIPELINES", "PIPELINE_STAGES")
    )


def summary(full: dict[str, Any], daily: list[dict[str, Any]], k: int, exact: dict[str, Any]) -> str:
    lines = [
        f"daily job, refresh every {k} days; full run {full['day']}: {full['total']} calls ({full['seconds']} s)"
    ]
    runs = [full, *daily]
    endpoints = sorted({key for r in runs for key in r["by_endpoint"]})
    width = max(len(name) for name in [*full["per_asset"], *endpoints])

    def table(title: str, names: list[str], field: str) -> list[str]:
        out = [title, f"  {'':<{width}}" + "".join(f"{r['day']:>12}" for r in runs)]
        for name in names:
            out.append(f"  {name:<{width}}" + "".join(f"{r[field].get(name, 0):>12}" for r in runs))
        out.append(f"  {'total':<{width}}" + "".join(f"{r['total']:>12}" for r in runs))
        return out

    lines += table("calls per asset:", list(full["per_asset"]), "per_asset")
    lines += table("calls per endpoint:", endpoints, "by_endpoint")
    for r in daily:
        lines.append(
            f"day {r['day']}: {r['total']} calls = {r['share_of_full_pct']} % of the full run"
            f" (target <= {TARGET_PCT} %); definitions reused: {', '.join(r['definitions_reused']) or 'none'}"
        )
        if r.get("types_from_journal"):
            lines.append(
                f"  {r['types_from_journal']} of {r['types']} types from the webhooks journal; its entry files"
                f" {r['journal_files']} (in the total; pre-signed URLs, not HubSpot's API):"
                f" {r['total_without_journal_files']} calls without them"
            )
        floor = r["floor"]
        parts = ", ".join(
            f"{name} {n}" for name, n in floor.items() if name not in ("total", "share_of_full_pct")
        )
        lines.append(
            f"  the day's floor (no sync with a private app's token makes fewer calls): {floor['total']} calls ="
            f" {floor['share_of_full_pct']} % of the full run ({parts}); this run = {r['total'] / max(floor['total'], 1):.2f} x the floor"
        )
    lines.append(
        f"exact mode per day (definitions every day + EXACT index): ~{exact['daily_calls']} calls"
        f" = {exact['share_of_full_pct']} % of the full run; of which definitions {exact['definitions_calls']}"
        f" (measured), index extra {exact['index_extra']} (computed)"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--json", default=str(DEFAULT_JSON), help="where to write the figures")
    parser.add_argument("--reuse-day0", metavar="DIR", help="iteration only: save/restore the day-0 store")
    parser.add_argument(
        "--journal",
        action="store_true",
        help=f"read HubSpot's webhooks journal (an app's client credentials); {JOURNAL_WARM_UP} warm-up days first",
    )
    args = parser.parse_args()
    settings = IncrementalSettings.from_env()
    k = refresh_days()
    with (
        tempfile.TemporaryDirectory() as root,
        Sandbox(SandboxConfig(seed=1, scale=args.scale, token=TOKEN, start_date=START)) as sb,
    ):
        sb.set_rate_limits(enabled=False)
        sb.add_app(*APP)
        day0 = START - timedelta(days=1)
        saved = Path(args.reuse_day0, "store") if args.reuse_day0 else None
        if saved is not None and (saved.parent / "day0.json").exists():
            shutil.rmtree(root)
            shutil.copytree(saved, root)
            full = json.loads((saved.parent / "day0.json").read_text())
            print(f"day 0 reused from {args.reuse_day0}: not a measured run, do not quote its figures")
        else:
            full = day_run(sb, root, day0, k, settings)
            full.pop("plan")
            if saved is not None:
                shutil.copytree(root, saved)
                (saved.parent / "day0.json").write_text(json.dumps(full))
        daily: list[dict[str, Any]] = []
        warm_up: list[dict[str, Any]] = []
        exact_days = []
        skip = JOURNAL_WARM_UP if args.journal else 0
        for n in range(skip + args.days):
            start_ms = sb.account.now_ms
            sb.advance(days=1)
            floor = day_floor(sb, start_ms, sb.account.now_ms)
            run = day_run(sb, root, START + timedelta(days=n), k, settings, args.journal)
            if n < skip:
                run.pop("plan")
                warm_up.append({key: run[key] for key in ("day", "total", "types_from_journal", "types")})
                print(
                    f"warm-up {run['day']}: {run['total']} calls, {run['types_from_journal']} types from the journal"
                )
                continue
            plan = run.pop("plan")
            run["share_of_full_pct"] = round(100 * run["total"] / full["total"], 3)
            floor["share_of_full_pct"] = round(100 * floor["total"] / full["total"], 3)
            run["floor"] = floor
            extra = exact_index_extra(plan, full.get("live_records") or {})
            exact_days.append((definitions_calls(run) + run["exact_definitions_extra_calls"], extra, run))
            daily.append(run)
    # the exact mode's day: this run's day with every definition fetched and EXACT's index extra
    defs, extra, run = (
        exact_days[-1] if exact_days else (0, {"association_rescan": 0, "calculated_reread": 0}, full)
    )
    exact_daily = run["total"] + run["exact_definitions_extra_calls"] + sum(extra.values())
    exact = {
        "daily_calls": exact_daily,
        "share_of_full_pct": round(100 * exact_daily / full["total"], 3),
        "definitions_calls": defs,
        "index_extra": extra,
        "note": "definitions measured (reused cadence sources fetched once more); index extra computed",
    }
    amortized = amortized_day(full, daily, k, settings)
    report = {
        "scale": args.scale,
        "amortized_per_day": amortized,
        "definitions_refresh_days": k,
        "settings": {
            "association_refresh_days": settings.association_refresh_days,
            "calculated_refresh_days": settings.calculated_refresh_days,
        },
        "reused_day0": bool(args.reuse_day0),
        "journal": args.journal,
        "journal_warm_up": warm_up,
        "full": full,
        "daily": daily,
        "exact_mode_per_day": exact,
    }
    print(summary(full, daily, k, exact))
    print(
        f"amortized per day: {amortized['calls']} calls = {amortized['share_of_full_pct']} % of the full run"
        f" (measured days {amortized['measured_mean']} + the full reconcile every"
        f" {settings.reconcile_every_days} days {amortized['reconcile_per_day']}"
        f" + the definitions refresh every {k} days {amortized['definitions_refresh_per_day']}"
        f" + every list paged whole every {k} days {amortized['lists_refresh_per_day']})"
    )
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
