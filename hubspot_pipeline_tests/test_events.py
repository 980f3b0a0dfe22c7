"""Events over HTTP: the daily run finds every occurrence of the day with one windowed read per
event-bearing type (not one per record); the backfill mode stops at its budget and resumes without
duplicates."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
from dagster_aws.s3 import S3Resource

from hubspot_pipeline.defs.events_backfill import events_backfill
from hubspot_pipeline.defs.resources import ExportStoreResource, HubSpotResource
from hubspot_pipeline.hubspot import HubSpotClient, HubSpotError
from hubspot_pipeline.store import LocalDestination, read_table
from hubspot_pipeline.sync.events import PAGE_SIZE, event_bearing_types, event_row
from hubspot_pipeline.sync.events_backfill import PROGRESS_KEY, load_progress, run_backfill
from hubspot_pipeline.sync.full_sync import sync_plan
from hubspot_pipeline.sync.index_sync import sync_index
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.definition_tables import account_event_types, object_types
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


def test_daily_events_are_complete_with_one_read_per_event_bearing_type(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    dest, ctx = synced(sandbox, tmp_path)
    export_spec(ctx, SPECS["OBJECTS"])
    export_spec(ctx, SPECS["OBJECT_AND_EVENT_TYPE_DEFINITIONS"])

    start, end = datetime(2026, 11, 22, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC)
    expected = occurrences(sandbox, start, end)
    assert len(expected) > 5, "the sandbox's day has events"
    active = {(e["object_type_id"], int(e["objectId"])) for e in expected.values()}
    asked = event_bearing_types(object_types(ctx), ctx.snapshot("properties").data, account_event_types(ctx))
    assert {"0-1", "0-2"} <= set(asked) and len(asked) < len(active)

    sandbox.reset_calls()
    outcome = export_spec(context(sandbox, dest, DAY, "run-events-2"), SPECS["EVENTS"])
    pages = {t: max(1, -(-len(sandbox.account.type_events(t, None, start, end)) // PAGE_SIZE)) for t in asked}
    assert sandbox.calls[EVENTS_CALL] == sum(pages.values()), (
        "a page per 100 occurrences per type, no record asked"
    )

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
    types = ["0-1", "0-2"]
    every = occurrences(sandbox)
    pages = sum(max(1, -(-len(sandbox.account.type_events(t)) // PAGE_SIZE)) for t in types)
    assert pages < len(every) / 50, "a page per 100 occurrences, not a call per record"
    sandbox.reset_calls()
    client = HubSpotClient(sandbox.base_url, TOKEN)
    first = run_backfill(dest, client, types, max_calls=3, flush_pages=2)
    assert not first.done and first.calls == 3 == sandbox.calls[EVENTS_CALL]
    saved = load_progress(dest)
    assert saved.type_id == "0-1" and saved.after_time is not None and saved.after_ids
    assert first.events == saved.events == 3 * PAGE_SIZE, "every page read is saved, none discarded"
    second = run_backfill(dest, client, types, max_calls=100_000)
    assert second.done
    assert first.calls + second.calls <= pages + 1, "the resumed read re-reads at most one page"
    rows = [r for key in load_progress(dest).parts for r in pq.read_table(tmp_path / key).to_pylist()]
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "no event read twice"
    assert set(every) <= set(ids), "every event of every live record"
    again = run_backfill(dest, client, types, max_calls=100)
    assert again.done and again.calls == 0


def test_backfill_progress_of_an_older_layout_restarts_its_type(tmp_path: Path) -> None:
    dest = LocalDestination(tmp_path)
    old = {"started_at": "2026-11-22T00:00:00.000Z", "type_id": "0-1", "after_id": 7, "records": 3,
           "done_types": [], "parts": ["_state/events_backfill/part-00000.parquet"], "events": 9}  # fmt: skip
    dest.put_bytes(PROGRESS_KEY, json.dumps(old).encode())
    progress = load_progress(dest)
    assert (progress.type_id, progress.after_time, progress.parts) == ("0-1", None, old["parts"])


def test_an_occurrence_without_its_record_fails_naming_the_type_and_field() -> None:
    good = {
        "id": "e1",
        "eventType": "e_visited_page",
        "objectId": "42",
        "occurredAt": "2026-11-22T01:02:03.004Z",
    }
    assert event_row(good, "0-1")["object_id"] == 42
    assert event_row({**good, "objectId": None}, "0-1", 7)["object_id"] == 7, "the record asked about"
    with pytest.raises(HubSpotError, match=r"object type 0-1 came back without a valid objectId"):
        event_row({**good, "objectId": None}, "0-1")
    with pytest.raises(HubSpotError, match=r"without a valid occurredAt"):
        event_row({**good, "occurredAt": ""}, "0-2")


def test_the_backfill_job_reads_the_whole_history_run_after_run(sandbox: Sandbox, tmp_path: Path) -> None:
    """The Dagster job: each run spends at most max_calls and the next resumes; together they read
    every event of the event-bearing types (found from the account's definitions)."""
    hubspot = HubSpotResource(
        access_token=TOKEN,
        base_url=sandbox.base_url,
        rate_limit_per_10s=100_000,
        pace_file=str(tmp_path / "pace"),
    )
    store = ExportStoreResource(export_url=str(tmp_path / "store"), s3=S3Resource())
    resources = {"hubspot": hubspot, "export_store": store}
    config = {"ops": {"backfill_event_history": {"config": {"max_calls": 4}}}}
    with dg.instance_for_test() as instance:
        runs = 0
        while not load_progress(LocalDestination(tmp_path / "store")).done:
            assert runs < 20, "the backfill never finished"
            sandbox.reset_calls()
            assert events_backfill.execute_in_process(
                run_config=config, resources=resources, instance=instance
            ).success
            assert sandbox.calls[EVENTS_CALL] <= 4
            runs += 1
    assert runs > 1
    parts = load_progress(LocalDestination(tmp_path / "store")).parts
    ids = {r["id"] for key in parts for r in pq.read_table(tmp_path / "store" / key).to_pylist()}
    assert set(occurrences(sandbox)) <= ids
