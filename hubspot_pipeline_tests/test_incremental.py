"""Incremental sync over HTTP: an index kept up day by day exports the same CRM tables as a fresh
full sync of the same sandbox state, and a run that fails midway leaves the index as it was."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from hubspot_pipeline.hubspot import HubSpotClient, HubSpotTransientError
from hubspot_pipeline.store import LocalDestination, read_table
from hubspot_pipeline.sync import association_refresh, incremental
from hubspot_pipeline.sync.change_search import windowed_ids
from hubspot_pipeline.sync.full_sync import sync_plan
from hubspot_pipeline.sync.incremental import EXACT, IncrementalSettings
from hubspot_pipeline.sync.index import load_manifest, to_ms
from hubspot_pipeline.sync.index_sync import sync_index
from hubspot_pipeline.sync.journal import Journal, JournalApp
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.export import export_spec
from hubspot_pipeline.tables.registry import CRM_TABLES, SPECS, SYNC_DEFINITION_TABLES
from hubspot_pipeline_tests.sandbox_session import Killed, killed_after
from hubspot_sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.slow

TOKEN = "pat-incremental"
START = date(2026, 3, 6)  # DAY0 + 10 opens a 7-day refresh cycle (ordinal % 7 == 0)
DAY0 = START - timedelta(days=1)
DEFINITIONS = SYNC_DEFINITION_TABLES
CRM = (*CRM_TABLES, "SYNC_HEALTH")
LIST_TABLES = ("LISTS", "LIST_MEMBERSHIPS")


@dataclass
class Export:
    sb: Sandbox
    dest: LocalDestination
    tmp: Path
    app: JournalApp | None = None  # the webhooks journal's app, when the daily sync reads it
    lists: bool = False  # export LISTS and LIST_MEMBERSHIPS too, read incrementally (a 7-day refresh)

    def client(self, fail_after: int | None = None) -> HubSpotClient:
        # retries without waiting: the sandbox's outages are counted in calls, not seconds
        client = HubSpotClient(self.sb.base_url, TOKEN, rate_limit_per_10s=100_000, sleep=lambda _: None)
        return killed_after(client, fail_after)

    def run(
        self,
        day: date,
        settings: IncrementalSettings = EXACT,
        fail_after: int | None = None,
        export: date | None = None,
    ) -> None:
        """Sync the index for `day`, then export the CRM tables of `export` (default: that day)."""
        client = self.client(fail_after)
        # definitions read every day (the exact mode): the tables are compared with a fresh full sync's
        ctx = ExportContext(
            day, self.dest, f"run{day:%m%d}{self.tmp.name[-4:]}", lambda: client, definitions_refresh_days=1
        )
        for name in DEFINITIONS:
            export_spec(ctx, SPECS[name])
        plan = sync_plan(*(ctx.snapshot(s).data for s in ("schemas", "properties", "association_labels")))
        app, portal = self.app, self.sb.account.portal_id
        journal = (lambda c: Journal(c, app, portal)) if app is not None else None
        sync_index(
            self.dest,
            ctx.as_of,
            ctx.run_id,
            lambda: client,
            lambda: plan,
            settings=settings,
            journal_factory=journal,
        )
        if export is not None:
            ctx = ExportContext(export, self.dest, ctx.run_id, lambda: client, definitions_refresh_days=1)
        for name in CRM:
            outcome = export_spec(ctx, SPECS[name])
            assert all(c.passed for c in outcome.checks), (name, outcome.checks)
        if self.lists:
            ctx = ExportContext(ctx.day, self.dest, ctx.run_id, lambda: client, definitions_refresh_days=7)
            for name in LIST_TABLES:
                export_spec(ctx, SPECS[name])

    def table(self, day: date, name: str) -> set[tuple]:
        table: pa.Table = read_table(self.dest, day.isoformat(), name)
        kept = [c for c in table.column_names if c != "INGESTEDAT"]
        return set(zip(*(table.column(c).to_pylist() for c in kept), strict=True))


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Export]:
    """A tiny account synced in full on day 0, then incrementally for two days (search lag off)."""
    with Sandbox(SandboxConfig(seed=5, scale="tiny", token=TOKEN, start_date=START)) as sb:
        export = Export(sb, LocalDestination(tmp_path_factory.mktemp("kept")), tmp_path_factory.mktemp("k"))
        export.run(DAY0)
        yield export


def _live_by_type(export: Export, day: date) -> dict[str, set[str]]:
    ids: dict[str, set[str]] = {}
    for row in export.table(day, "OBJECTS"):
        ids.setdefault(row[0], set()).add(row[1])
    return ids


def fresh_full(sb: Sandbox, day: date, tmp: Path, lists: bool = False) -> Export:
    export = Export(sb, LocalDestination(tmp / "full"), tmp, lists=lists)
    export.run(day)
    return export


def same_as_full(kept: Export, full: Export, day: date) -> None:
    """Equal tables; history may hold more: entries that fell off HubSpot's capped history stay in
    the index, each no newer than the oldest one a full sync still sees for that property (as old when
    several values share a timestamp: a record created with a long history, all set at its creation)."""
    for name in CRM:
        ours, theirs = kept.table(day, name), full.table(day, name)
        if name != "OBJECT_PROPERTIES_HISTORY":
            assert ours == theirs, name
            continue
        assert theirs <= ours
        oldest: dict[tuple, str] = {}
        for row in theirs:
            oldest[row[:3]] = min(oldest.get(row[:3], row[4]), row[4])
        assert all(row[4] <= oldest[row[:3]] for row in ours - theirs)


def test_two_incremental_days_export_what_a_full_sync_does(kept: Export, tmp_path: Path) -> None:
    sb = kept.sb
    for n in (1, 2):
        sb.advance(days=1, bulk_update=40)  # up to 40 contacts end the day at one timestamp
        day = DAY0 + timedelta(days=n)
        kept.run(day)
        same_as_full(kept, fresh_full(sb, day, tmp_path / str(n)), day)
    manifest = load_manifest(kept.dest)
    assert [g.kind for g in manifest.generations] == ["full", "delta", "delta"]
    changed = sum(t["changed"] for t in manifest.generations[-1].stats["types"].values())
    live = sum(manifest.generations[0].stats["live_records"].values())
    assert 0 < changed < live  # only what changed was read
    stats = manifest.generations[-1].stats
    live_now = {t: len(kept_ids) for t, kept_ids in _live_by_type(kept, day).items()}
    # calculated properties (K = 1): every live record not read anyway re-read with its history
    deals = stats["types"]["0-3"]
    assert deals["calculated_scanned"] == 0
    assert deals["calculated_refreshed"] == live_now["0-3"] - deals["changed"] > 0
    # associations: the lead direction (companies, fewer) read whole; contacts only where an edge moved
    pairs = stats["associations"]
    assert pairs["0-2/0-1"]["from_ids_read"] == live_now["0-2"]
    assert 0 < pairs["0-1/0-2"]["from_ids_read"] < live_now["0-1"]
    # tombstones: every record archived or merged away by then, out of the snapshot, counted
    health = {(r[0], r[1]): int(r[3]) for r in kept.table(day, "SYNC_HEALTH") if r[3] is not None}
    objects = kept.table(day, "OBJECTS")
    for type_id in ("0-1", "0-2"):  # the types the sandbox merges
        archived = [r for r in sb.account.all_records(type_id, properties=[]) if r.archived]
        assert health[(type_id, "DELETED")] == len(archived) > 0
        assert not {str(r.id) for r in archived} & {row[1] for row in objects if row[0] == type_id}
        assert health[(type_id, "SYNCED")] == sum(row[0] == type_id for row in objects)
        assert health[(type_id, "FAILED")] == 0


def test_a_run_killed_midway_leaves_the_index_and_the_next_run_recovers(kept: Export, tmp_path: Path) -> None:
    sb = kept.sb
    sb.advance(days=1)
    day = DAY0 + timedelta(days=3)
    before = load_manifest(kept.dest)
    with pytest.raises(Killed):
        kept.run(day, fail_after=8)
    assert load_manifest(kept.dest) == before
    kept.run(day)
    same_as_full(kept, fresh_full(sb, day, tmp_path), day)


def _lagged_day(kept: Export, day: date, tmp_path: Path) -> None:
    """A day whose last six hours search does not show yet at its end: its export misses them."""
    kept.sb.set_search_lag(6 * 3600)
    try:
        kept.sb.advance(days=1)
        kept.run(day, replace(EXACT, reconcile_every_days=100_000))
        assert kept.table(day, "OBJECTS") != fresh_full(kept.sb, day, tmp_path).table(day, "OBJECTS")
    finally:
        kept.sb.set_search_lag(0)


def test_search_lag_misses_late_changes_until_the_reconcile_pass(kept: Export, tmp_path: Path) -> None:
    day = DAY0 + timedelta(days=4)
    _lagged_day(kept, day, tmp_path / "a")
    kept.sb.advance(days=1)
    day += timedelta(days=1)
    kept.run(day, replace(EXACT, reconcile_every_days=1))
    assert load_manifest(kept.dest).generations[-1].stats["types"]["0-1"]["reconciled"] == "cadence"
    same_as_full(kept, fresh_full(kept.sb, day, tmp_path / "b"), day)


def _settled_window_case(kept: Export, tmp_path: Path, day: date, mode: str) -> None:
    """From `day` (the sandbox's next): a lagged day, then a day that finds what the lagged one
    missed in its settled window (the step-2 path `mode`), then a day with nothing missed."""
    _lagged_day(kept, day, tmp_path / "a")
    kept.sb.advance(days=1)
    day += timedelta(days=1)
    kept.run(day, replace(EXACT, reconcile_every_days=100_000))
    stats = load_manifest(kept.dest).generations[-1].stats["types"]
    reconciled = [s["reconciled"] for s in stats.values()]
    assert "window" in reconciled and "cadence" not in reconciled, stats
    assert {s["window"] for s in stats.values()} == {mode}, stats
    same_as_full(kept, fresh_full(kept.sb, day, tmp_path / "b"), day)
    # a day with nothing missed triggers nothing
    kept.sb.advance(days=1)
    day += timedelta(days=1)
    kept.run(day, replace(EXACT, reconcile_every_days=100_000))
    stats = load_manifest(kept.dest).generations[-1].stats["types"]
    assert not any(s["reconciled"] for s in stats.values()), stats


def test_a_settled_window_that_disagrees_with_the_index_triggers_its_reconcile(
    kept: Export, tmp_path: Path
) -> None:
    """No reconcile is due, but the window the lagged day searched, settled now, holds records the
    index lacks or holds older. Each type's window is small (tiny), so the day's change search starts
    at the window and names them; they are read."""
    _settled_window_case(kept, tmp_path, kept.sb.account.now.date(), "searched")


def test_an_outage_midway_fails_the_run_and_the_next_run_recovers(kept: Export, tmp_path: Path) -> None:
    sb = kept.sb
    sb.advance(days=1)
    day = DAY0 + timedelta(days=9)
    before = load_manifest(kept.dest)
    # every attempt (1 + 8 retries) of the first association read fails: records were read by then
    sb.inject_fault("503", count=9, path_prefix="/crm/v4/associations")
    with pytest.raises(HubSpotTransientError):
        kept.run(day)
    assert load_manifest(kept.dest) == before
    kept.run(day)
    same_as_full(kept, fresh_full(sb, day, tmp_path), day)


def test_twenty_thousand_records_at_one_timestamp_are_all_found_without_passing_the_cap() -> None:
    """Pitfall 3: a bulk update gives 20,000 contacts one `lastmodifieddate`; windows on (timestamp,
    id) find every changed contact (the search `total`) with no 400 and no loop."""
    with Sandbox(SandboxConfig(seed=2, scale="medium", token=TOKEN, start_date=START)) as sb:
        since = to_ms(sb.account.now) or 0
        sb.advance(days=1, bulk_update=20_000)
        client = HubSpotClient(sb.base_url, TOKEN, rate_limit_per_10s=10**6, search_per_second=10**6)
        ids = windowed_ids(client, "0-1", since)
        probe = {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(since)}
        total = client.post(
            "/crm/v3/objects/0-1/search", {"filterGroups": [{"filters": [probe]}], "limit": 1}
        )
        assert len(ids) == total["total"] > 20_000
        assert not sb.rejected, sb.rejected
        # more searches than one pass over the ids at 200 a page: the same-timestamp ids were paged by id
        assert client.calls["POST /crm/v3/objects/{objectType}/search"] > len(ids) / 200


def test_weekly_refresh_rereads_every_silent_change_within_seven_days(
    kept: Export, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Silent changes refreshed weekly (K = 7): a day of churn, then seven daily syncs (one 7-day
    cycle) with HubSpot standing still, each exporting the day HubSpot stands at. Each sync scans
    another slice; after the seventh, associations and calculated properties equal a full sync's,
    and each live record was scanned for calculated values exactly once.

    A tiny type is read whole when a slice takes as many calls; pages of one record (for that
    choice only) make slices pay off here as they do for types of thousands."""
    monkeypatch.setattr(association_refresh, "ASSOCIATION_BATCH", 1)
    monkeypatch.setattr(incremental, "SEARCH_PAGE", 1)
    weekly = IncrementalSettings(
        association_refresh_days=7, calculated_refresh_days=7, reconcile_every_days=10**5, compact_after=10**5
    )
    kept.sb.advance(days=1)
    day = DAY0 + timedelta(days=10)
    assert day.toordinal() % 7 == 0, "START must put DAY0 + 10 at the start of a cycle"
    for n in range(7):
        kept.run(day + timedelta(days=n), weekly, export=day)
    same_as_full(kept, fresh_full(kept.sb, day, tmp_path), day)
    deltas = load_manifest(kept.dest).generations[-7:]
    live = _live_by_type(kept, day)
    for type_id in ("0-1", "0-3"):
        scanned = sum(g.stats["types"][type_id]["calculated_scanned"] for g in deltas)
        assert scanned == len(live[type_id])
    # the lead direction of contacts and companies read each company once over the week (new ones
    # also on their first day), never all of them in one day
    lead = [g.stats["associations"]["0-2/0-1"]["from_ids_read"] for g in deltas]
    new_companies = deltas[0].stats["types"]["0-2"]["changed"]
    assert len(live["0-2"]) <= sum(lead) <= len(live["0-2"]) + new_companies
    assert max(lead) < len(live["0-2"])


def test_the_rotating_scan_reads_a_change_every_search_missed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change the modified-date searches never return (no reconcile due) is found by the rotating
    scan, which compares each record's updatedAt with the index's, also on a type without calculated
    properties."""
    with Sandbox(SandboxConfig(seed=5, scale="tiny", token=TOKEN, start_date=START)) as sb:
        kept = Export(sb, LocalDestination(tmp_path / "kept"), tmp_path)
        kept.run(DAY0)
        sb.advance(days=1)
        plain = [t for t, table in sb.account.tables.items() if not table.registry.calculated()]
        day_start = (sb.account.now_ms // 86_400_000 - 1) * 86_400_000
        missed = {
            (t, int(table.ids[i]))
            for t in plain
            for table in [sb.account.tables[t]]
            for i in table.live_indices()
            if int(table.updated[i]) >= day_start
        }
        assert missed, "the sandbox changes records of a type without calculated properties every day"
        real = incremental.windowed_ids

        def blind(client: HubSpotClient, type_id: str, *args: object, **kwargs: object) -> dict[int, int]:
            found = real(client, type_id, *args, **kwargs)  # type: ignore[arg-type]
            return {i: at for i, at in found.items() if (type_id, i) not in missed}

        monkeypatch.setattr(incremental, "windowed_ids", blind)
        kept.run(START, replace(EXACT, reconcile_every_days=10**5))
        stats = load_manifest(kept.dest).generations[-1].stats["types"]
        assert all(stats[t]["reconciled"] != "cadence" for t in plain)
        monkeypatch.undo()
        same_as_full(kept, fresh_full(sb, START, tmp_path), START)


def test_a_settled_window_too_large_to_search_again_is_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same with every window too large to search again with the day's changes: its count
    disagrees with the index's, so it is searched again and what the index lacks is read. (An
    account of its own: the module's has exported later days, whose definitions it would reuse.)"""
    monkeypatch.setattr(incremental, "WINDOW_IN_SEARCH", -1)
    with Sandbox(SandboxConfig(seed=5, scale="tiny", token=TOKEN, start_date=START)) as sb:
        (tmp_path / "k").mkdir()
        export = Export(sb, LocalDestination(tmp_path / "kept"), tmp_path / "k")
        export.run(DAY0)
        _settled_window_case(export, tmp_path, START, "counted")


def test_the_window_is_searched_again_only_when_small_and_not_overtaken_by_the_look_back() -> None:
    """Step 2's choice: a window holding at most WINDOW_IN_SEARCH records is searched again with the
    day's changes; a larger one is counted; and an empty one because the look-back was raised past the
    time since the last run (lo > hi) is not, or starting at lo would skip [hi, lo)."""
    n = incremental.WINDOW_IN_SEARCH
    live = np.arange(1, n + 2, dtype=np.int64)
    full = incremental._Before(live, np.full(n + 1, 1_500, dtype=np.int64))
    assert not incremental._search_window_again(1_000, 2_000, full)
    held = incremental._Before(live, np.r_[np.full(n, 1_500), 2_000].astype(np.int64))
    assert incremental._search_window_again(1_000, 2_000, held)
    assert not incremental._search_window_again(2_000, 1_000, held)
