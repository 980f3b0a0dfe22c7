"""Daily runs of a sandbox account in tests: definitions, the index sync and chosen tables of a day, with
every blocking check asserted, and readers of what they wrote."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import LocalDestination, read_table
from hubspot_pipeline.sync import failed_records
from hubspot_pipeline.sync.full_sync import SyncPlan, sync_plan
from hubspot_pipeline.sync.incremental import EXACT, IncrementalSettings
from hubspot_pipeline.sync.index import load_manifest
from hubspot_pipeline.sync.index_sync import sync_index
from hubspot_pipeline.sync.resync import ResyncRequest, resync
from hubspot_pipeline.sync.selection import parse_selection
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.export import export_spec
from hubspot_pipeline.tables.registry import SPECS, SYNC_DEFINITION_TABLES
from hubspot_pipeline_tests.sandbox_session import killed_after
from hubspot_sandbox import Sandbox

TOKEN = "pat-issues"
HEALTH = ("OBJECTS", "SYNC_HEALTH", "SYNC_ISSUES")


@dataclass
class Account:
    sb: Sandbox
    dest: LocalDestination
    settings: IncrementalSettings = field(default_factory=lambda: EXACT)
    selection_json: str = ""
    token: str = TOKEN
    refresh_days: int = 1  # HUBSPOT_DEFINITIONS_REFRESH_DAYS of the runs

    def client(self, fail_after: int | None = None) -> HubSpotClient:
        client = HubSpotClient(self.sb.base_url, self.token, rate_limit_per_10s=100_000, sleep=lambda _: None)
        return killed_after(client, fail_after)

    def context(self, day: date, client: HubSpotClient) -> ExportContext:
        selection = parse_selection(self.selection_json) if self.selection_json else None
        ctx = ExportContext(
            day, self.dest, f"run{day:%m%d}", lambda: client, definitions_refresh_days=self.refresh_days
        )
        if selection is not None:
            ctx.selection = selection
        return ctx

    def plan(self, ctx: ExportContext) -> SyncPlan:
        for name in SYNC_DEFINITION_TABLES:
            export_spec(ctx, SPECS[name])
        return sync_plan(
            *(ctx.snapshot(s).data for s in ("schemas", "properties", "association_labels")),
            selection=ctx.selection,
        )

    def run(self, day: date, tables: tuple[str, ...] = HEALTH) -> None:
        client = self.client()
        ctx = self.context(day, client)
        plan = self.plan(ctx)
        sync_index(self.dest, ctx.as_of, ctx.run_id, lambda: client, lambda: plan, settings=self.settings)
        for name in tables:
            outcome = export_spec(ctx, SPECS[name])
            blocking = [c for c in outcome.checks if c.name != "no_failed_records"]
            assert all(c.passed for c in blocking), (name, outcome.checks)

    def resync(self, request: ResyncRequest, day: date, fail_after: int | None = None) -> int:
        client = self.client(fail_after)
        plan = self.plan(self.context(day, client))
        before = self.sb.total_calls()
        resync(client, self.dest, plan, request, f"resync{day:%m%d}")
        return self.sb.total_calls() - before

    def failed(self) -> pa.Table:
        return failed_records.of_generation(self.dest, load_manifest(self.dest).generations[-1])

    def issues(self, day: date) -> list[dict]:
        """SYNC_ISSUES' record rows (FAILED, EXCLUDED); `unavailable` gives the per-type ones."""
        rows = read_table(self.dest, day.isoformat(), "SYNC_ISSUES").to_pylist()
        return [r for r in rows if r["OBJECTID"] is not None]

    def unavailable(self, day: date) -> dict[str, dict]:
        """SYNC_ISSUES' UNAVAILABLE rows by type id."""
        rows = read_table(self.dest, day.isoformat(), "SYNC_ISSUES").to_pylist()
        return {r["OBJECTTYPEID"]: r for r in rows if r["STATE"] == "UNAVAILABLE"}

    def health(self, day: date) -> dict[tuple[str, str], int]:
        """SYNC_HEALTH's records per (type id, state); UNAVAILABLE rows (no count) are left out."""
        counts: dict[tuple[str, str], int] = {}
        for row in read_table(self.dest, day.isoformat(), "SYNC_HEALTH").to_pylist():
            if row["RECORDS"] is not None:
                key = (row["OBJECTTYPEID"], row["STATE"])
                counts[key] = counts.get(key, 0) + int(row["RECORDS"])
        return counts

    def object_ids(self, day: date, type_id: str) -> set[int]:
        rows = read_table(self.dest, day.isoformat(), "OBJECTS").to_pylist()
        return {int(r["OBJECTID"]) for r in rows if r["OBJECTTYPEID"] == type_id}
