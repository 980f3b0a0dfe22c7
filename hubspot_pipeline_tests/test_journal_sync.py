"""The daily sync reading HubSpot's webhooks journal: from its third run on, every type's changes and
deletes come from the journal instead of the searches and the archived listing, and the export still
equals a fresh full sync's; an expired offset or a bad credential are handled."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from hubspot_pipeline.defs.resources import resources_from_env
from hubspot_pipeline.store import LocalDestination
from hubspot_pipeline.sync import incremental
from hubspot_pipeline.sync.association_refresh import journal_rows, spread_slice
from hubspot_pipeline.sync.incremental import EXACT
from hubspot_pipeline.sync.index import ASSOCIATION_SCHEMA, load_manifest
from hubspot_pipeline.sync.journal import (
    ASSOCIATION_EVENT_SCHEMA,
    EVENT_SCHEMA,
    LIST_EVENT_SCHEMA,
    LISTS,
    JournalApp,
    JournalChanges,
    JournalError,
    JournalPosition,
    associations_key,
    memberships_since,
)
from hubspot_pipeline.sync.lists import RECORD_MEMBERSHIPS
from hubspot_pipeline_tests.test_incremental import DAY0, START, TOKEN, Export, fresh_full, same_as_full
from hubspot_sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.slow

ASSOCIATION_READ = "POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read"

APP = JournalApp("journal-app", "journal-secret")


@pytest.fixture
def searched(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often the incremental sync searched for changes and paged the archived listing."""
    seen: Counter[str] = Counter()
    windowed, listing = incremental.windowed_ids, incremental.archived_listing

    def counted_windowed(client: Any, type_id: str, since: int, filters: Any = None) -> dict[int, int]:
        seen["change_search" if filters is None else "filtered_search"] += 1
        return (
            windowed(client, type_id, since, filters)
            if filters is not None
            else windowed(client, type_id, since)
        )

    def counted_listing(client: Any, type_id: str) -> list[dict]:
        seen["archived_listing"] += 1
        return listing(client, type_id)

    monkeypatch.setattr(incremental, "windowed_ids", counted_windowed)
    monkeypatch.setattr(incremental, "archived_listing", counted_listing)
    return seen


def sources(export: Export) -> set[str]:
    generation = load_manifest(export.dest).generations[-1]
    return {stats["source"] for stats in generation.stats["types"].values()}


@pytest.fixture
def journaled(tmp_path: Path) -> Iterator[Export]:
    with Sandbox(SandboxConfig(seed=7, scale="tiny", token=TOKEN, start_date=START)) as sb:
        sb.add_app(APP.client_id, APP.client_secret)
        export = Export(sb, LocalDestination(tmp_path / "kept"), tmp_path, app=APP, lists=True)
        export.run(DAY0)
        yield export


def test_the_journal_serves_from_the_fourth_run_and_the_export_equals_a_full_syncs(
    journaled: Export, searched: Counter[str], tmp_path: Path
) -> None:
    sb = journaled.sb
    sb.set_search_lag(3 * 3600)  # search misses the last 3 hours of each day: the journal does not
    seen: list[tuple[set[str], Counter[str], int]] = []
    association_reads: list[int] = []
    # no full reconcile to mend what search missed, no association re-read to mend what the journal missed
    settings = replace(EXACT, reconcile_every_days=100_000, journal_association_refresh_days=100_000)
    for n in range(1, 6):
        sb.advance(days=1, bulk_update=30)
        searched.clear()
        sb.reset_calls()
        journaled.run(DAY0 + timedelta(days=n), settings=settings)
        association_reads.append(sb.calls[ASSOCIATION_READ])
        reads = [f"GET /crm/v3/lists/{{listId}}/memberships{end}" for end in ("", "/join-order")]
        lists_read = sum(sb.calls[k] for k in reads) + sb.calls[f"POST {RECORD_MEMBERSHIPS}"]
        seen.append((sources(journaled), Counter(searched), lists_read))
    plan_types = len(load_manifest(journaled.dest).generations[-1].stats["types"])
    # 1 subscribes; the search windows of 2 and 3 (with their settled windows) start before it
    assert [s for s, _, _ in seen] == [{"search"}] * 3 + [{"journal"}] * 2
    assert seen[0][1]["change_search"] == seen[0][1]["archived_listing"] == plan_types
    assert seen[4][1]["change_search"] == seen[4][1]["archived_listing"] == 0
    assert {s.object_type_id for s in sb.journal.live_subscriptions()} >= set(
        load_manifest(journaled.dest).generations[-1].stats["types"]
    )
    journal = load_manifest(journaled.dest).generations[-1].stats["journal"]
    assert journal["offset"] and journal["entries"] > 0
    day = DAY0 + timedelta(days=5)
    sb.set_search_lag(0)
    full = fresh_full(sb, day, tmp_path, lists=True)
    same_as_full(journaled, full, day)
    # the lists took the journal's membership changes: the same members, and no list read on the last day
    assert journaled.table(day, "LIST_MEMBERSHIPS") == full.table(day, "LIST_MEMBERSHIPS")
    assert seen[4][2] == 0 < seen[0][2]
    # the associations took the journal's edge changes: only records restored today are read (none of
    # those created: their edges are events), against every record a day before the journal served
    stats = load_manifest(journaled.dest).generations[-1].stats["associations"]
    assert sum(s.get("from_journal", 0) for s in stats.values()) > 0
    assert association_reads[4] < association_reads[2] / 10


def test_after_a_gap_past_the_journals_retention_two_runs_search_and_the_third_is_served(
    journaled: Export, searched: Counter[str], tmp_path: Path
) -> None:
    sb = journaled.sb
    for n in (1, 2, 3, 4):
        sb.advance(days=1)
        journaled.run(DAY0 + timedelta(days=n), settings=EXACT)
    assert sources(journaled) == {"journal"}
    sb.advance(days=4)  # four days without a run: the kept offset is older than the journal's 3 days
    kept = load_manifest(journaled.dest).generations[-1].stats["journal"]["subscribed"]
    subscribed = {key for key in kept if key != LISTS and not key.startswith(associations_key(""))}
    seen = []
    for n in (8, 9, 10):
        if n > 8:
            sb.advance(days=1)
        searched.clear()
        journaled.run(DAY0 + timedelta(days=n), settings=EXACT)
        types = load_manifest(journaled.dest).generations[-1].stats["types"]
        seen.append({s: {t for t in types if types[t]["source"] == s} for s in ("journal", "search")})
    assert [x["journal"] for x in seen[:2]] == [set(), set()]
    assert seen[2]["journal"] == subscribed
    # a custom type created during the gap has its own subscription since then: it searches three runs
    assert not seen[2]["search"] & subscribed
    assert load_manifest(journaled.dest).generations[-1].stats["journal"]["offset"]
    day = DAY0 + timedelta(days=10)
    same_as_full(journaled, fresh_full(sb, day, tmp_path), day)


def test_a_rejected_secret_names_the_settings_and_leaves_the_index_as_it_was(journaled: Export) -> None:
    journaled.sb.advance(days=1)
    before = load_manifest(journaled.dest)
    journaled.app = JournalApp(APP.client_id, "not-the-secret")
    with pytest.raises(JournalError, match="HUBSPOT_JOURNAL_CLIENT_SECRET") as err:
        journaled.run(DAY0 + timedelta(days=1), settings=EXACT)
    assert "BAD_CLIENT_SECRET" in str(err.value) and "not-the-secret" not in str(err.value)
    assert load_manifest(journaled.dest) == before


def test_one_journal_credential_without_the_other_stops_the_code_location(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUBSPOT_JOURNAL_CLIENT_ID", "journal-app")
    monkeypatch.delenv("HUBSPOT_JOURNAL_CLIENT_SECRET", raising=False)
    with pytest.raises(
        JournalError, match="HUBSPOT_JOURNAL_CLIENT_ID is set but HUBSPOT_JOURNAL_CLIENT_SECRET"
    ):
        resources_from_env()
    monkeypatch.setenv("HUBSPOT_JOURNAL_CLIENT_SECRET", "s")
    hubspot, _ = resources_from_env()
    assert hubspot.journal_client_id == "journal-app"


def _changes(rows: list[tuple[str, int, str, int]], anchored: int | None = 1_000) -> JournalChanges:
    columns = list(zip(*rows, strict=True))
    events = pa.table(
        {
            "type_id": pa.array(columns[0], pa.string()),
            "object_id": pa.array(columns[1], pa.int64()),
            "action": pa.array(columns[2], pa.string()),
            "occurred_ms": pa.array(columns[3], pa.int64()),
            "seq": pa.array(range(len(rows)), pa.int64()),
        },
        schema=EVENT_SCHEMA,
    )
    lists = pa.table({f.name: pa.array([], f.type) for f in LIST_EVENT_SCHEMA}, schema=LIST_EVENT_SCHEMA)
    start = JournalPosition("o" if anchored else None, anchored or 0, {"0-1": 500})
    edges = pa.table({f.name: pa.array([], f.type) for f in ASSOCIATION_EVENT_SCHEMA})
    return JournalChanges(events, lists, edges, start, (("p", 5_000), ("q", 9_000)), 400_000_000)


def test_each_records_last_event_decides_whether_it_is_changed_or_archived() -> None:
    feed = _changes(
        [
            ("0-1", 1, "UPDATE", 2_000),
            ("0-1", 1, "DELETE", 3_000),
            ("0-1", 1, "RESTORE", 3_000),  # same instant, later in the journal: live again
            ("0-1", 2, "CREATE", 2_000),
            ("0-1", 2, "DELETE", 2_500),
            ("0-1", 3, "MERGE", 4_000),
            ("0-1", 4, "MERGED_AWAY", 4_000),
            ("0-1", 5, "UPDATE", 500),  # before the window: already in the index
            ("0-2", 6, "UPDATE", 2_000),
        ]
    )
    assert feed.changed("0-1", 1_000) == {1: 3_000, 3: 4_000}
    assert feed.archived("0-1", 1_000) == {2: 2_500, 4: 4_000}
    assert feed.changed("0-2", 1_000) == {6: 2_000}
    # the journal vouches from the later of the subscription and the entry read after
    assert feed.complete_from("0-1") == 1_000 and feed.complete_from("0-2") is None
    unanchored = _changes([("0-1", 1, "UPDATE", 2_000)], anchored=None)
    assert unanchored.complete_from("0-1") == 400_000_000 - 71 * 3_600_000
    # the next run starts after the newest entry published by the instant it must read from
    assert feed.keep(9_500).offset == "q" and feed.keep(5_000).offset == "p"
    assert feed.keep(4_999) == feed.start and feed.keep(4_999).subscribed == {"0-1": 500}


def test_each_list_members_last_event_decides_and_the_join_time_is_the_last_adds() -> None:
    rows = [
        ("7", 1, True, 2_000),
        ("7", 1, False, 3_000),  # joined then left: touched, not a member
        ("7", 2, False, 2_000),
        ("7", 2, True, 2_500),  # left then joined again: a member since 2.5 s
        ("8", 1, True, 1_000),  # the same record in another list
        ("7", 3, True, 10),  # before the window
    ]
    columns = list(zip(*rows, strict=True))
    events = pa.table(
        {
            "list_id": pa.array(columns[0], pa.string()),
            "record_id": pa.array(columns[1], pa.int64()),
            "added": pa.array(columns[2], pa.bool_()),
            "occurred_ms": pa.array(columns[3], pa.int64()),
            "seq": pa.array(range(len(rows)), pa.int64()),
        }
    )
    touched, joined = memberships_since(events, 1_000)
    pairs = sorted(zip(touched["list_id"].to_pylist(), touched["record_id"].to_pylist(), strict=True))
    assert pairs == [("7", 1), ("7", 2), ("8", 1)]
    assert sorted(joined.to_pylist(), key=lambda r: r["list_id"]) == [
        {"list_id": "7", "record_id": 2, "added_at": "1970-01-01T00:00:02.500Z"},
        {"list_id": "8", "record_id": 1, "added_at": "1970-01-01T00:00:01.000Z"},
    ]


def test_a_failed_archived_read_due_again_is_listed_to_be_read_though_the_journal_named_its_delete_once() -> (
    None
):
    feed = _changes([("0-1", 2, "DELETE", 2_500), ("0-1", 3, "UPDATE", 2_600)])

    class Reader:
        def created_at(self, type_id: str, ids: Any) -> Any:
            return ids * 0 + 1_000

    listed = incremental._journal_listing(feed, Reader(), "0-1", 1_000, np.array([2, 9]), 86_400_000)  # type: ignore[arg-type]
    assert [(r["id"], r["archivedAt"]) for r in listed] == [
        ("2", "1970-01-01T00:00:02.500Z"),  # the journal's delete
        ("9", "1970-01-02T00:00:00.000Z"),  # due again: archived at the day's end, so it is read
    ]


def test_an_edges_last_removal_drops_its_held_types_and_only_the_adds_after_it_stay() -> None:
    rows = [
        # (from, to, added, type ids, at)
        (1, 10, True, [5], 2_000),  # added to a held edge: its types and the held ones
        (1, 11, False, [], 2_000),  # removed: gone with every type
        (1, 12, False, [], 2_000),
        (1, 12, True, [7], 3_000),  # removed, then added again: only the type added after
        (2, 20, True, [9], 2_000),  # a type the labels snapshot does not know: read instead
        (3, 30, True, [5], 500),  # before the window
    ]
    columns = list(zip(*rows, strict=True))
    n = len(rows)
    edges = pa.table(
        {
            "from_type": ["0-1"] * n,
            "from_id": pa.array(columns[0], pa.int64()),
            "to_type": ["0-2"] * n,
            "to_id": pa.array(columns[1], pa.int64()),
            "added": pa.array(columns[2], pa.bool_()),
            "type_ids": pa.array(columns[3], pa.list_(pa.int64())),
            "occurred_ms": pa.array(columns[4], pa.int64()),
            "seq": pa.array(range(n), pa.int64()),
        },
        schema=ASSOCIATION_EVENT_SCHEMA,
    )
    base = _changes([("0-1", 1, "UPDATE", 2_000)])
    feed = JournalChanges(base.events, base.list_events, edges, base.start, base.read, base.until_ms)
    changes = feed.edges("0-1", "0-2", 1_000)
    assert changes.touched.tolist() == [1, 2]
    assert sorted(feed.edges("0-2", "0-1", 1_000).touched.tolist()) == []
    held = pa.table(
        {
            "from_type": ["0-1"] * 4,
            "to_type": ["0-2"] * 4,
            "from_id": pa.array([1, 1, 1, 2], pa.int64()),
            "to_id": pa.array([10, 11, 12, 20], pa.int64()),
            "type_id": pa.array([1, 1, 1, 1], pa.int64()),
            "category": ["HUBSPOT_DEFINED"] * 4,
            "label": [None] * 4,
        },
        schema=ASSOCIATION_SCHEMA,
    )
    kinds = {1: ("HUBSPOT_DEFINED", None), 5: ("USER_DEFINED", "Partner"), 7: ("USER_DEFINED", "Owner")}
    rows_after, unread = journal_rows(("0-1", "0-2"), held, changes, kinds)
    assert unread.tolist() == [2]
    assert [(r["from_id"], r["to_id"], r["type_id"], r["label"]) for r in rows_after.to_pylist()] == [
        (1, 10, 1, None),
        (1, 10, 5, "Partner"),
        (1, 12, 7, "Owner"),
    ]


def test_the_journals_safety_net_reads_each_id_once_a_cycle_in_as_few_calls_as_that_takes() -> None:
    small = np.arange(1, 1_500, dtype=np.int64)  # two calls' worth: two days of a cycle of 28
    days = [spread_slice(small, 28, day, salt=3) for day in range(28)]
    assert sum(len(d) > 0 for d in days) == 2
    assert np.array_equal(np.sort(np.concatenate(days)), small)
    big = np.arange(1, 40_000, dtype=np.int64)  # more calls than days: a slice every day
    days = [spread_slice(big, 28, day, salt=3) for day in range(28)]
    assert all(len(d) for d in days) and np.array_equal(np.sort(np.concatenate(days)), big)
