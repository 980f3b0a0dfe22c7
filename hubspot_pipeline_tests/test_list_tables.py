"""LISTS and LIST_MEMBERSHIPS against the sandbox over HTTP: every list and membership, as of the day."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.hubspot.paging import BatchResult
from hubspot_pipeline.store import LocalDestination, read_manifest, read_table
from hubspot_pipeline.sync.index import COMPACTED, Generation, IndexManifest, to_ms
from hubspot_pipeline.sync.index_reader import IndexReader
from hubspot_pipeline.sync.lists import _Changes
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.export import export_spec
from hubspot_pipeline.tables.list_tables import REMOVALS_NOTE
from hubspot_pipeline.tables.registry import SPECS
from hubspot_pipeline_tests.daily_runs import Account
from hubspot_sandbox import Sandbox, SandboxConfig

TOKEN = "pat-lists"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=5, scale="small", token=TOKEN, start_date=date(2026, 11, 22))) as sb:
        sb.advance(days=3)  # memberships are added (and removed) on 2026-11-22 .. 2026-11-24
        yield sb


def export(sb: Sandbox, dest: LocalDestination, day: str, table: str):
    ctx = ExportContext(
        day=date.fromisoformat(day),
        destination=dest,
        run_id="run-lists",
        client_factory=lambda: HubSpotClient(sb.base_url, TOKEN),
    )
    # OBJECTS needs the CRM index, which this test does not build: without it the reference check
    # would fail and keep the table unpublished
    spec = SPECS[table]
    outcome = export_spec(
        ctx, replace(spec, references=tuple(r for r in spec.references if r.table != "OBJECTS"))
    )
    assert outcome.published, outcome.failed
    return outcome


def expected_memberships(sb: Sandbox, before: str) -> set[tuple[str, str, str, str]]:
    out = set()
    for item in sb.account.lists():
        if item["createdAt"] >= before:
            continue
        for record_id, added in sb.account.list_memberships(int(item["listId"])):
            if added < before:
                out.add((str(item["listId"]), item["objectTypeId"], str(record_id), added))
    return out


def test_lists_and_memberships_as_of_each_day(sandbox: Sandbox, tmp_path: Path) -> None:
    dest = LocalDestination(tmp_path)
    sandbox.reset_calls()
    export(sandbox, dest, "2026-11-24", "LISTS")  # the memberships reference it
    today = export(sandbox, dest, "2026-11-24", "LIST_MEMBERSHIPS")
    lists = sandbox.account.lists()
    big = [x for x in lists if int(x["additionalProperties"]["hs_list_size"]) > 250]
    assert big, "some list has more than one page of memberships"
    assert sandbox.calls["POST /crm/v3/lists/search"] == 1
    pages = sum(max(1, -(-int(x["size"]) // 250)) for x in lists)  # 250 memberships a page
    assert sandbox.calls["GET /crm/v3/lists/{listId}/memberships/join-order"] == pages
    assert sandbox.calls["GET /account-info/v3/details"] == 1
    assert sandbox.total_calls() == 2 + pages

    table = read_table(dest, "2026-11-24", "LIST_MEMBERSHIPS")
    got = set(
        zip(
            *(table.column(c).to_pylist() for c in ("LISTID", "OBJECTTYPEID", "OBJECTID", "ADDEDAT")),
            strict=True,
        )
    )
    assert got == expected_memberships(sandbox, "2026-11-25T00:00:00.000Z")
    assert next(c for c in today.checks if c.name == "primary_key_unique").passed
    assert REMOVALS_NOTE in read_manifest(dest, "2026-11-24", "LIST_MEMBERSHIPS")["notes"]

    # an earlier day, exported afterwards, costs no call and leaves out what was added after it
    calls = sandbox.total_calls()
    export(sandbox, dest, "2026-11-22", "LISTS")
    earlier = export(sandbox, dest, "2026-11-22", "LIST_MEMBERSHIPS")
    assert sandbox.total_calls() == calls
    table = read_table(dest, "2026-11-22", "LIST_MEMBERSHIPS")
    got_earlier = set(
        zip(
            *(table.column(c).to_pylist() for c in ("LISTID", "OBJECTTYPEID", "OBJECTID", "ADDEDAT")),
            strict=True,
        )
    )
    assert got_earlier == expected_memberships(sandbox, "2026-11-23T00:00:00.000Z")
    assert got_earlier < got, "memberships were added on 2026-11-23 and 2026-11-24"
    assert next(c for c in earlier.checks if c.name == "references_lists").passed

    listed = read_table(dest, "2026-11-22", "LISTS")
    sizes = dict(zip(listed.column("LISTID").to_pylist(), listed.column("SIZE").to_pylist(), strict=True))
    per_list: dict[str, int] = {}
    for list_id, *_ in got_earlier:
        per_list[list_id] = per_list.get(list_id, 0) + 1
    assert {k: int(v) for k, v in sizes.items() if int(v)} == per_list
    types = set(listed.column("LISTTYPE").to_pylist())
    assert types == {"MANUAL", "DYNAMIC", "SNAPSHOT"}


def test_unchanged_lists_keep_their_rows_and_changed_ones_are_paged_again(tmp_path: Path) -> None:
    """Day after day only the lists whose size or last added or removed time moved are paged again;
    the table equals one paged in full, and every list is paged again after the refresh days."""
    memberships = "GET /crm/v3/lists/{listId}/memberships/join-order"
    with Sandbox(SandboxConfig(seed=5, scale="tiny", token=TOKEN, start_date=date(2026, 11, 22))) as sb:
        kept, fresh = LocalDestination(tmp_path / "kept"), LocalDestination(tmp_path / "fresh")

        def run(dest: LocalDestination, day: date, every: int) -> int:
            sb.reset_calls()
            ctx = ExportContext(
                day,
                dest,
                f"run{day:%d}",
                lambda: HubSpotClient(sb.base_url, TOKEN),
                definitions_refresh_days=every,
            )
            spec = SPECS["LIST_MEMBERSHIPS"]
            outcome = export_spec(ctx, replace(spec, references=()))
            assert outcome.published, outcome.failed
            return sb.calls[memberships]

        first = run(kept, date(2026, 11, 21), 3)
        lists = len(sb.account.lists())
        assert first >= lists
        paged = []
        for n in range(1, 4):
            sb.advance(days=1)
            day = date(2026, 11, 21 + n)
            paged.append(run(kept, day, 3))
            run(fresh, day, 1)  # every list paged: what the kept rows must equal
            ours = read_table(kept, day.isoformat(), "LIST_MEMBERSHIPS").to_pylist()
            theirs = read_table(fresh, day.isoformat(), "LIST_MEMBERSHIPS").to_pylist()
            assert sorted(
                map(lambda r: tuple((k, v) for k, v in r.items() if k != "INGESTEDAT"), ours)
            ) == sorted(map(lambda r: tuple((k, v) for k, v in r.items() if k != "INGESTEDAT"), theirs))
        # the sandbox changes a few lists a day: those are paged, the others kept; on day 3 every
        # list's rows are 3 days old, so all are paged again
        assert 0 < paged[0] < first and paged[1] < first
        assert paged[2] >= lists


class _Tallied(Account):
    """An account whose clients note every GET path they ask."""

    paths: list[str]

    def client(self, fail_after: int | None = None) -> HubSpotClient:
        client = super().client(fail_after)
        get = client.get

        def counted(path: str, params: object = None) -> object:
            self.paths.append(path)
            return get(path, params)  # type: ignore[arg-type]

        client.get = counted  # type: ignore[method-assign]
        return client


def _memberships(account: Account, day: str) -> set[tuple[str, str, str, str]]:
    table = read_table(account.dest, day, "LIST_MEMBERSHIPS")
    columns = ("LISTID", "OBJECTTYPEID", "OBJECTID", "ADDEDAT")
    return set(zip(*(table.column(c).to_pylist() for c in columns), strict=True))


def test_snapshot_and_active_lists_follow_their_records_without_paging(tmp_path: Path) -> None:
    """Day after day a snapshot list loses only deleted records (the index's tombstones come off its
    rows) and an active list changes only with its records (those the index saw change are asked
    which lists they are in): neither is paged again, manual lists are, and the table equals the
    account's memberships every day. A member that leaves an active list unseen is caught by the
    size: that list is paged."""
    with Sandbox(SandboxConfig(seed=5, scale="tiny", token=TOKEN, start_date=date(2026, 11, 22))) as sb:
        account = _Tallied(sb, LocalDestination(tmp_path), token=TOKEN, refresh_days=7)
        account.paths = []
        tables = ("OBJECTS", "LISTS", "LIST_MEMBERSHIPS")
        account.run(date(2026, 11, 21), tables)
        kinds = {x["listId"]: x["processingType"] for x in sb.account.lists()}
        changed: dict[str, set[str]] = {}
        for n in (22, 23, 24):
            markers = {x["listId"]: x["additionalProperties"] for x in sb.account.lists()}
            sb.advance(days=1)
            sb.reset_calls()
            account.paths.clear()
            account.run(date(2026, 11, n), tables)
            now = {x["listId"]: x["additionalProperties"] for x in sb.account.lists()}
            paged = {p.split("/")[4] for p in account.paths if p.endswith("/memberships/join-order")}
            for list_id in (k for k in now if now[k] != markers[k]):
                changed.setdefault(kinds[list_id], set()).add(list_id)
            empty = {k for k, x in markers.items() if x["hs_list_size"] == "0"}  # no rows to keep
            assert {kinds[k] for k in paged - empty} <= {"MANUAL"}, (n, paged)
            assert _memberships(account, f"2026-11-{n}") == expected_memberships(
                sb, f"2026-11-{n + 1}T00:00:00.000Z"
            )
        assert changed.get("SNAPSHOT") and changed.get("DYNAMIC") and changed.get("MANUAL"), changed
        assert sb.calls["POST /crm/v3/lists/records/memberships/batch/read"] >= 1

        # a member leaves an active list with no change to its record: the kept rows would be one too
        # many, so the list is paged again
        active = next(x for x in sb.account.lists_ if x.processing_type == "DYNAMIC" and len(x.members))
        sb.advance(days=1)
        active.pending.append((int(active.members[0]), sb.account.now_ms - 1, False))
        active.commit(sb.account.tables[active.object_type_id].archived != 0, sb.account.now_ms - 1)
        account.paths.clear()
        account.run(date(2026, 11, 25), tables)
        paged = {p.split("/")[4] for p in account.paths if p.endswith("/memberships/join-order")}
        assert str(active.list_id) in paged
        assert _memberships(account, "2026-11-25") == expected_memberships(sb, "2026-11-26T00:00:00.000Z")


class _Reader:
    """An index that read records 1 to 3 since the last membership read."""

    manifest = SimpleNamespace(segments=lambda type_id: ["a segment"])

    def ids_read_after(self, type_id: str, ingested_ms: int) -> np.ndarray:
        return np.array([1, 2, 3], dtype=np.int64)

    def tombstones(self, type_id: str) -> np.ndarray:
        return np.array([9], dtype=np.int64)


class _Client:
    """Answers the record-memberships batch read with `errors` and records 1 and 2 in list 5."""

    def __init__(self, errors: list[dict]) -> None:
        self.errors, self.calls = errors, 0

    def batch(self, path: str, inputs: list[dict], *, chunk: int) -> Iterator[BatchResult]:
        self.calls += 1
        results = [
            {
                "recordId": str(i),
                "recordListMemberships": [{"listId": 5, "lastAddedTimestamp": "1767225600000"}],
            }
            for i in (1, 2)
        ]
        yield BatchResult(results=results, errors=self.errors)


@pytest.mark.parametrize(
    ("errors", "budget", "follows"),
    [
        ([{"category": "OBJECT_NOT_FOUND", "context": {"ids": ["3"]}}], 1, True),
        ([{"category": "RATE_LIMITS", "context": {"ids": ["3"]}}], 1, False),  # record 3's lists unknown
        ([], 1, False),  # record 3 left out of the answer
        ([{"category": "OBJECT_NOT_FOUND", "context": {"ids": ["3"]}}], 0, False),  # paging costs less
    ],
)
def test_an_active_list_is_followed_only_when_every_record_read_is_accounted_for(
    errors: list[dict], budget: int, follows: bool
) -> None:
    client = _Client(errors)
    changes = _Changes(client, lambda: _Reader(), 0)  # type: ignore[arg-type]
    found = changes.of("0-1", budget)
    assert (found is not None) == follows
    assert client.calls == (1 if budget else 0)
    if found is not None:
        touched, joined = found
        assert touched.tolist() == [1, 2, 3, 9]  # what was read, and the deleted
        assert joined.to_pylist() == [
            {"record_id": i, "list_id": "5", "added_at": "2026-01-01T00:00:00.000Z"} for i in (1, 2)
        ]


def test_the_records_read_since_a_moment_are_unknown_across_a_compaction(tmp_path: Path) -> None:
    """Before any sync run after the moment, or when a compaction merged one, the index cannot tell
    which records it read since: lists are then paged, not followed."""

    def run(at: str) -> Generation:
        return Generation(id=f"g-{at}", kind="delta", run_id="r", watermark=at, ingested_at=at)

    early, late = "2026-11-21T01:00:00.000Z", "2026-11-22T01:00:00.000Z"
    moment = to_ms("2026-11-21T12:00:00.000Z") or 0
    before_only = IndexReader(LocalDestination(tmp_path), IndexManifest([run(early)]))
    assert before_only.ids_read_after("0-1", moment) is None
    compacted = Generation(
        id="g-c", kind=COMPACTED, run_id="c", watermark=late, ingested_at=late, covers=[run(early), run(late)]
    )
    merged = IndexManifest([compacted, run("2026-11-23T01:00:00.000Z")])
    assert IndexReader(LocalDestination(tmp_path), merged).ids_read_after("0-1", moment) is None
    after = IndexReader(LocalDestination(tmp_path), IndexManifest([run(early), run(late)]))
    assert after.ids_read_after("0-1", moment).tolist() == []  # a run since, which read no contact
