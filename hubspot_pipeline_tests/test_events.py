"""Events over HTTP: the daily run finds every occurrence of the day while asking only about records with
activity that day; the backfill mode stops at its budget and resumes without duplicates."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import LocalDestination, read_table
from hubspot_pipeline.sync.events_backfill import load_progress, run_backfill
from hubspot_pipeline.sync.full_sync import sync_plan
from hubspot_pipeline.sync.index_reader import IndexReader
from hubspot_pipeline.sync.index_sync import sync_index
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.export import export_spec
from hubspot_pipeline.tables.registry import SPECS
from hubspot_sandbox import Sandbox, SandboxConfig

TOKEN = "pat-events"
DAY = date(2026, 11, 22)
EVENTS_CALL = "GET /events/v3/events"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=21, scale="tiny", token=TOKEN, start_date=DAY)) as sb:
        sb.advance(days=1)  # a day of activity: 2026-11-22
        yield sb


def context(sb: Sandbox, dest: LocalDestination, day: date, run_id: str = "run-events") -> ExportContext:
    return ExportContext(
        day=day, destination=dest, run_id=run_id, client_factory=lambda: HubSpotClient(sb.base_url, TOKEN)
    )


def synced(sb: Sandbox, tmp_path: Path) -> tuple[LocalDestination, ExportContext]:
    """A store under `tmp_path` whose index is synced for DAY, and the day's context."""
    dest = LocalDestination(tmp_path)
    ctx = context(sb, dest, DAY)
    plan = lambda: sync_plan(  # noqa: E731
        ctx.snapshot("schemas").data, ctx.snapshot("properties").data, ctx.snapshot("association_labels").data
    )
    sync_index(ctx.destination, ctx.as_of, ctx.run_id, lambda: ctx.client, plan, logging.getLogger("test"))
    return dest, ctx


def occurrences(sb: Sandbox, start: datetime | None = None, end: datetime | None = None) -> dict[str, dict]:
    """Every occurrence the sandbox holds for live records of event-bearing types, by id."""
    out = {}
    for type_id in ("0-1", "0-2"):
        for object_id in sb.account.record_ids(type_id, archived=False, after=None, limit=10**9):
            for e in sb.account.events(type_id, object_id, occurred_after=start, occurred_before=end):
                out[e["id"]] = {**e, "object_type_id": type_id}
    return out


def test_daily_events_are_complete_and_ask_only_about_active_records(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    dest, ctx = synced(sandbox, tmp_path)
    export_spec(ctx, SPECS["OBJECTS"])
    export_spec(ctx, SPECS["OBJECT_AND_EVENT_TYPE_DEFINITIONS"])

    start, end = datetime(2026, 11, 22, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC)
    expected = occurrences(sandbox, start, end)
    assert len(expected) > 5, "the sandbox's day has events"
    active = {(e["object_type_id"], int(e["objectId"])) for e in expected.values()}
    records = sum(
        len(sandbox.account.record_ids(t, archived=False, after=None, limit=10**9)) for t in ("0-1", "0-2")
    )
    assert len(active) < records / 2, "only a minority of records had activity on the day"

    sandbox.reset_calls()
    outcome = export_spec(context(sandbox, dest, DAY, "run-events-2"), SPECS["EVENTS"])
    assert sandbox.calls[EVENTS_CALL] == len(active), "one call per record with activity, none for the rest"

    table = read_table(dest, DAY.isoformat(), "EVENTS")
    got = dict(zip(table.column("ID").to_pylist(), table.column("OCCURREDAT").to_pylist(), strict=True))
    assert got == {i: e["occurredAt"] for i, e in expected.items()}
    assert all(c.passed for c in outcome.checks), [c for c in outcome.checks if not c.passed]

    per_type = {t.result.table: t.result.rows for t in outcome.tables[1:]}
    names = {e["eventType"] for e in expected.values()}
    for definition in sandbox.account.event_definitions():
        assert f"EVENTS_{definition['name'].upper()}" in per_type
    assert sum(per_type.values()) == len(expected)
    visited = [e for e in expected.values() if e["eventType"] == "e_visited_page"]
    if "e_visited_page" in names:
        pages = read_table(dest, DAY.isoformat(), "EVENTS_VISITED_PAGE")
        prop = next(iter(visited[0]["properties"]))
        column = "PROPERTY_" + prop.upper()
        by_id = dict(zip(pages.column("ID").to_pylist(), pages.column(column).to_pylist(), strict=True))
        assert all(by_id[e["id"]] == e["properties"].get(prop) for e in visited)

    calls = sandbox.total_calls()
    export_spec(context(sandbox, dest, DAY, "run-events-3"), SPECS["EVENTS"])
    assert sandbox.total_calls() == calls, "a re-run of the day reads its snapshot, not the API"


def test_backfill_stops_at_its_budget_and_resumes_without_duplicates(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    dest, _ = synced(sandbox, tmp_path)
    now = sandbox.account.now
    reader = IndexReader(dest)
    by_type = [(t, lambda t=t: reader.as_of_ids(t, now).tolist()) for t in ("0-1", "0-2")]
    sandbox.reset_calls()
    first = run_backfill(dest, HubSpotClient(sandbox.base_url, TOKEN), by_type, max_calls=7, flush_records=3)
    assert not first.done
    assert first.calls <= 7 and sandbox.calls[EVENTS_CALL] == first.calls
    assert load_progress(dest).after_id is not None
    second = run_backfill(dest, HubSpotClient(sandbox.base_url, TOKEN), by_type, max_calls=100_000)
    assert second.done
    rows = [r for key in load_progress(dest).parts for r in pq.read_table(tmp_path / key).to_pylist()]
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "no event read twice"
    assert set(ids) == set(occurrences(sandbox)), "every event of every record"
    again = run_backfill(dest, HubSpotClient(sandbox.base_url, TOKEN), by_type, max_calls=100)
    assert again.done and again.calls == 0
