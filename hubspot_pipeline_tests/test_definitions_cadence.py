"""The refresh cadence of the definition sources whose answer rarely changes (properties, association
labels, pipelines, event types and definitions): reused for K days from the snapshot actually fetched,
refetched on day K+1 or as soon as the object type list changes, every day with K = 1."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import LocalDestination, read_table
from hubspot_pipeline.sync.snapshots import SnapshotStore
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.export import export_spec
from hubspot_pipeline.tables.registry import SPECS
from hubspot_sandbox import Sandbox, SandboxConfig

TOKEN = "pat-cadence"
START = date(2026, 11, 22)  # the sandbox's day 2 (2026-11-24) adds a contact property, day 5 a custom type
TABLES = (
    "OBJECT_AND_EVENT_TYPE_DEFINITIONS",
    "PROPERTY_DEFINITIONS",
    "ASSOCIATION_DEFINITIONS",
    "PIPELINES",
    "PIPELINE_STAGES",
)
CADENCE_ROUTES = ("/crm/v3/properties/", "/labels", "/crm/v3/pipelines/", "/events/v3/event")
OBJECT_TYPE_ROUTES = CADENCE_ROUTES[:3]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=11, scale="tiny", token=TOKEN, start_date=START)) as sb:
        sb.set_rate_limits(enabled=False)
        yield sb


def client(sb: Sandbox) -> HubSpotClient:
    return HubSpotClient(sb.base_url, TOKEN, rate_limit_per_10s=1_000_000)


def run_day(
    sb: Sandbox, dest: LocalDestination, day: date, k: int, run_id: str = "run-0001"
) -> dict[str, int]:
    """Export the definition tables for `day` (one context per table, as the Dagster steps do); the
    calls it made, by route."""
    sb.reset_calls()
    for table in TABLES:
        ctx = ExportContext(
            day,
            dest,
            run_id,
            lambda: client(sb),
            definitions_refresh_days=k,
        )
        assert export_spec(ctx, SPECS[table]).published, table
    return dict(sb.calls)


def calls_to(calls: dict[str, int], routes: tuple[str, ...] = CADENCE_ROUTES) -> int:
    return sum(n for key, n in calls.items() if any(r in key for r in routes))


def rows(dest: LocalDestination, day: date, table: str) -> set[tuple]:
    t = read_table(dest, day.isoformat(), table)
    return set(zip(*(t.column(c).to_pylist() for c in t.column_names), strict=True))


def test_reused_for_k_days_then_refetched(
    sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    k = 3
    dest = LocalDestination(tmp_path)
    first_day = START - timedelta(days=1)
    first = run_day(sandbox, dest, first_day, k)
    assert calls_to(first, ("/crm/v3/properties/",)) > 0 and calls_to(first, ("/labels",)) > 0
    assert calls_to(first, ("/crm/v3/pipelines/",)) > 0 and calls_to(first, ("/events/v3/event",)) > 0
    fetched_rows = {t: rows(dest, first_day, t) for t in TABLES}
    ingested = {r[-1] for r in fetched_rows["PROPERTY_DEFINITIONS"]}

    caplog.set_level(logging.INFO, logger="hubspot_pipeline")
    for n in range(k - 1):  # days 2..K of the cadence
        sandbox.advance(days=1)
        day = START + timedelta(days=n)
        calls = run_day(sandbox, dest, day, k)
        assert calls_to(calls) == 0, calls
        assert calls.get("GET /crm-object-schemas/v3/schemas", 0) == 1, "schemas are read every day"
        for table in TABLES:
            assert rows(dest, day, table) == fetched_rows[table], table
        assert {r[-1] for r in rows(dest, day, "PROPERTY_DEFINITIONS")} == ingested, "the original INGESTEDAT"
        snap = SnapshotStore(dest).load(day, "properties")
        assert snap is not None and snap.day == day and snap.copy_of == first_day
    message = (
        f"properties for {START} reused from the snapshot fetched for {first_day} (refresh every 3 days)"
    )
    assert message in caplog.messages

    # a re-run of a reused day reads its own copy: no call at all
    rerun = run_day(sandbox, dest, START, k, run_id="run-0002")
    assert sum(rerun.values()) == 0, rerun
    assert rows(dest, START, "PROPERTY_DEFINITIONS") == fetched_rows["PROPERTY_DEFINITIONS"]

    # day K+1: fetched again, and the property the sandbox added that day shows up
    sandbox.advance(days=1)
    refetch_day = START + timedelta(days=k - 1)
    calls = run_day(sandbox, dest, refetch_day, k)
    assert calls_to(calls, ("/crm/v3/properties/",)) == first["GET /crm/v3/properties/{objectType}"]
    assert calls_to(calls, ("/labels",)) == calls_to(first, ("/labels",)), "one call per ordered pair"
    assert calls_to(calls, ("/crm/v3/pipelines/",)) == calls_to(first, ("/crm/v3/pipelines/",))
    assert calls_to(calls, ("/events/v3/event",)) == calls_to(first, ("/events/v3/event",))
    names = {(r[0], r[1]) for r in rows(dest, refetch_day, "PROPERTY_DEFINITIONS")}
    assert ("0-1", "sandbox_added_day_2") in names
    assert ("0-1", "sandbox_added_day_2") not in {(r[0], r[1]) for r in fetched_rows["PROPERTY_DEFINITIONS"]}
    assert {r[-1] for r in rows(dest, refetch_day, "PROPERTY_DEFINITIONS")}.isdisjoint(ingested)
    snap = SnapshotStore(dest).load(refetch_day, "properties")
    assert snap is not None and snap.copy_of is None


def test_a_new_custom_object_type_refetches_the_next_day(sandbox: Sandbox, tmp_path: Path) -> None:
    dest = LocalDestination(tmp_path)
    sandbox.advance(days=5)
    before = START + timedelta(days=4)
    assert calls_to(run_day(sandbox, dest, before, 7)) > 0
    types_before = {r[0] for r in rows(dest, before, "OBJECT_AND_EVENT_TYPE_DEFINITIONS")}

    sandbox.advance(days=1)  # the sandbox's day 5 creates a custom object type
    day = START + timedelta(days=5)
    calls = run_day(sandbox, dest, day, 7)
    new = {r[0] for r in rows(dest, day, "OBJECT_AND_EVENT_TYPE_DEFINITIONS")} - types_before
    assert len(new) == 1, new
    assert calls_to(calls, OBJECT_TYPE_ROUTES) > 0, "the type list changed: properties, labels, pipelines"
    for route in OBJECT_TYPE_ROUTES:
        assert calls_to(calls, (route,)) > 0, route
    assert calls_to(calls, ("/events/v3/event",)) == 0, "event definitions do not depend on object types"
    (new_type,) = new
    assert any(r[0] == new_type for r in rows(dest, day, "PROPERTY_DEFINITIONS"))
    pairs = {(r[0], r[1]) for r in rows(dest, day, "ASSOCIATION_DEFINITIONS")}
    assert any(new_type in p for p in pairs), "its association types were read"
    snap = SnapshotStore(dest).load(day, "properties")
    assert snap is not None and snap.copy_of is None and new_type in snap.basis


def test_a_changed_basis_refetches(sandbox: Sandbox, tmp_path: Path) -> None:
    """Whatever changed the type list (here: the earlier snapshot's basis edited), the source is refetched."""
    dest = LocalDestination(tmp_path)
    first_day = START - timedelta(days=1)
    run_day(sandbox, dest, first_day, 7)
    store = SnapshotStore(dest)
    snap = store.load(first_day, "pipelines")
    assert snap is not None
    store.save(first_day, "pipelines", snap.data, snap.fetched_at, [*snap.basis, "2-999"])
    sandbox.advance(days=1)
    calls = run_day(sandbox, dest, START, 7)
    assert calls_to(calls, ("/crm/v3/pipelines/",)) > 0
    assert calls_to(calls, ("/crm/v3/properties/", "/labels", "/events/v3/event")) == 0


def test_one_day_cadence_refetches_daily_and_refresh_forces_a_fetch(sandbox: Sandbox, tmp_path: Path) -> None:
    dest = LocalDestination(tmp_path)
    first = run_day(sandbox, dest, START - timedelta(days=1), 1)
    sandbox.advance(days=1)
    again = run_day(sandbox, dest, START, 1)
    assert calls_to(again) == calls_to(first) > 0
    snap = SnapshotStore(dest).load(START, "properties")
    assert snap is not None and snap.copy_of is None

    sandbox.reset_calls()
    ctx = ExportContext(START, dest, "run-0002", lambda: client(sandbox), refresh=True)
    ctx.snapshot("pipelines")
    assert calls_to(dict(sandbox.calls), ("/crm/v3/pipelines/",)) > 0, "refresh always fetches"
