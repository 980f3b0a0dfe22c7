"""The CRM index: the full sync over HTTP against the sandbox, its call floor, and the as-of reader.

- a full sync of a `tiny` account holds every record (live and archived), every history entry and
  every association the sandbox has, asks for ids with one cheap property and for properties and
  history in POST bodies, and spends exactly the call floor;
- a second sync for a day the index is already past makes no call; a failed sync leaves the index
  as it was;
- continuations of records with more than 500 associations ride beside fresh ids (fake client);
- the as-of rules of the reader, on a hand-built two-generation index;
- at `small` (slow): calls within 10 % of the floor, the >500-association hub included.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from hubspot_pipeline.hubspot import HubSpotClient, HubSpotTransientError
from hubspot_pipeline.store import LocalDestination
from hubspot_pipeline.sync import full_sync
from hubspot_pipeline.sync.definitions import (
    fetch_association_labels,
    fetch_properties,
    fetch_schemas,
    fetch_type_access,
)
from hubspot_pipeline.sync.full_sync import (
    ASSOCIATION_PAGE,
    SyncOutcome,
    SyncPlan,
    Watermark,
    api_call_floor,
    sync_associations,
    sync_plan,
)
from hubspot_pipeline.sync.full_sync_progress import FullSyncProgress
from hubspot_pipeline.sync.index import (
    ASSOCIATION_SCHEMA,
    HISTORY_SCHEMA,
    MANIFEST_KEY,
    RECORD_SCHEMA,
    Generation,
    IndexManifest,
    RecordSegment,
    load_manifest,
    save_manifest,
    segment_key,
    to_ms,
)
from hubspot_pipeline.sync.index_reader import IndexReader
from hubspot_pipeline.sync.index_sync import sync_index
from hubspot_pipeline.sync.index_writer import SegmentFile
from hubspot_pipeline.sync.timestamps import iso_ms
from hubspot_sandbox import Sandbox, SandboxConfig

TOKEN = "pat-crm-index-test"
START = date(2026, 3, 1)
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)  # the end of the day before START: the sandbox's "now"


class RecordingClient(HubSpotClient):
    """A real client that also keeps every request it sends (method, path, params, body)."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(base_url, TOKEN, rate_limit_per_10s=100_000, **kwargs)
        self.sent: list[tuple[str, str, Mapping[str, Any], Any]] = []

    def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> Any:
        self.sent.append((method, path, dict(params or {}), body))
        return super().request(method, path, params=params, body=body)


def plan_of(client: HubSpotClient) -> SyncPlan:
    schemas = fetch_schemas(client, {})
    access = fetch_type_access(client, {"schemas": schemas})
    properties = fetch_properties(client, {"schemas": schemas, "type_access": access})
    labels = fetch_association_labels(client, {"schemas": schemas, "properties": properties})
    return sync_plan(schemas, properties, labels)


def run_sync(
    sb: Sandbox, root: Path, plan: SyncPlan, as_of: datetime = AS_OF, **kwargs: Any
) -> tuple[SyncOutcome, RecordingClient]:
    client = RecordingClient(sb.base_url, **kwargs)
    sb.reset_calls()
    return sync_index(LocalDestination(root), as_of, "sync0001-run", lambda: client, lambda: plan), client


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=5, scale="tiny", token=TOKEN, start_date=START)) as sb:
        yield sb


@pytest.fixture(scope="module")
def plan(sandbox: Sandbox) -> SyncPlan:
    return plan_of(HubSpotClient(sandbox.base_url, TOKEN, rate_limit_per_10s=100_000))


@pytest.fixture(scope="module")
def synced(
    sandbox: Sandbox, plan: SyncPlan, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, SyncOutcome, RecordingClient]:
    root = tmp_path_factory.mktemp("index")
    return (root, *run_sync(sandbox, root, plan))


def test_full_sync_holds_every_record_history_entry_and_association(
    sandbox: Sandbox, plan: SyncPlan, synced: tuple[Path, SyncOutcome, RecordingClient]
) -> None:
    root, outcome, _ = synced
    account = sandbox.account
    manifest = load_manifest(LocalDestination(root))
    assert outcome.synced and len(manifest.generations) == 1
    # the watermark is HubSpot's clock (the sandbox's midnight), not the wall clock
    assert manifest.generations[0].watermark == "2026-03-01T00:00:00.000Z"
    assert {t.type_id for t in plan.types} >= {"0-1", "0-2", "0-3", "0-5"}
    assert any(t.custom for t in plan.types)
    reader = IndexReader(LocalDestination(root))
    for info in plan.types:
        live = {r.id for r in account.all_records(info.type_id, include_archived=False, properties=())}
        every = list(account.all_records(info.type_id, properties=plan.properties[info.type_id]))
        assert set(reader.as_of_ids(info.type_id, AS_OF).tolist()) == live, info.name
        segments = {s.part: s for _, s in manifest.segments(info.type_id)}
        assert segments["archived"].record_count == len(every) - len(live), info.name
        assert segments["live"].history_rows + segments["archived"].history_rows == sum(
            len(entries) for r in every for entries in r.history.values()
        ), info.name
    assert sum(s.record_count for g in manifest.generations for s in g.segments if s.part == "archived") > 0
    for from_type, to_type in plan.pairs:
        expected = {
            (r.id, to_id, kind["typeId"], kind["category"], kind["label"])
            for r in account.all_records(from_type, include_archived=False, properties=())
            for to_id, kinds in account.associations(from_type, r.id, to_type)
            for kind in kinds
        }
        got = {
            (row["from_id"], row["to_id"], row["type_id"], row["category"], row["label"])
            for batch in reader.association_batches(from_type, to_type)
            for row in batch.to_pylist()
        }
        assert got == expected, (from_type, to_type)


def test_full_sync_reads_ids_cheaply_and_properties_in_post_bodies(
    plan: SyncPlan, synced: tuple[Path, SyncOutcome, RecordingClient]
) -> None:
    _, _, client = synced
    sent = client.sent
    lists = [(p, params) for m, p, params, _ in sent if m == "GET"]
    reads = [(p, params, body) for m, p, params, body in sent if m == "POST" and p.endswith("/batch/read")]
    assert lists and reads
    assert all(params["properties"] == "hs_object_id" and params["limit"] == 100 for _, params in lists)
    object_reads = [(p, params, body) for p, params, body in reads if p.startswith("/crm/v3/objects/")]
    for path, _params, body in object_reads:
        type_id = path.split("/")[4]
        assert 1 <= len(body["inputs"]) <= 100
        assert body["properties"] == body["propertiesWithHistory"] == plan.properties[type_id]
    association_reads = [body for p, _, body in reads if p.startswith("/crm/v4/associations/")]
    assert all(len(body["inputs"]) <= 1000 for body in association_reads)
    # every record's history is fetched exactly once
    read_ids = [(p, i["id"]) for p, _, body in object_reads for i in body["inputs"]]
    assert len(read_ids) == len(set(read_ids))


def test_full_sync_spends_exactly_the_floor(
    sandbox: Sandbox, plan: SyncPlan, synced: tuple[Path, SyncOutcome, RecordingClient]
) -> None:
    _, outcome, client = synced
    # the floor recomputed from the sandbox's own counts (no record of `tiny` has > 500 associations)
    records: dict[str, tuple[int, int]] = {}
    for info in plan.types:
        every = list(sandbox.account.all_records(info.type_id, properties=()))
        live = sum(1 for r in every if not r.archived)
        records[info.type_id] = (live, len(every) - live)
    floor = api_call_floor(records, [(records[from_type][0], 0) for from_type, _ in plan.pairs])
    assert outcome.api_calls_floor == floor
    assert outcome.api_calls == len(client.sent) == sandbox.total_calls()
    assert floor <= outcome.api_calls <= math.ceil(floor * 1.10)


def test_no_call_when_the_index_is_already_past_the_day(
    sandbox: Sandbox, plan: SyncPlan, synced: tuple[Path, SyncOutcome, RecordingClient]
) -> None:
    root, _, _ = synced
    before = (root / MANIFEST_KEY).read_bytes()
    for as_of in (AS_OF, AS_OF - timedelta(days=30)):
        sandbox.reset_calls()
        outcome = sync_index(LocalDestination(root), as_of, "again001", _no_client, lambda: plan)
        assert not outcome.synced
        assert sandbox.total_calls() == 0
    assert (root / MANIFEST_KEY).read_bytes() == before


def _no_client() -> HubSpotClient:
    raise AssertionError("no client may be created when the index is past the day")


def test_failed_sync_leaves_the_previous_index_intact(
    sandbox: Sandbox, plan: SyncPlan, synced: tuple[Path, SyncOutcome, RecordingClient], tmp_path: Path
) -> None:
    root, _, _ = synced
    before = (root / MANIFEST_KEY).read_bytes()
    files_before = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    sandbox.inject_fault("500", count=1, path_prefix="/crm/v4/associations")
    with pytest.raises(HubSpotTransientError):
        # a later day: the index is stale, so this run syncs, and fails on its first association call
        run_sync(sandbox, root, plan, as_of=AS_OF + timedelta(days=1), max_retries=0)
    assert (root / MANIFEST_KEY).read_bytes() == before
    # the failed run's uploaded segments are named by no manifest; the listed ones are untouched
    manifest = IndexManifest.from_json(before)
    listed = {s.records for g in manifest.generations for s in g.segments}
    assert {str(p) for p in files_before} >= listed
    assert all((root / key).exists() for key in listed)


class FakeAssociations:
    """Answers association batch reads like HubSpot: 500 per input, a cursor when more remain."""

    def __init__(self, counts: dict[int, int]) -> None:
        self.counts = counts
        self.bodies: list[dict] = []

    def post(self, path: str, body: dict, params: Mapping[str, Any] | None = None) -> dict:
        self.bodies.append(body)
        results = []
        for item in body["inputs"]:
            from_id, start = int(item["id"]), int(item.get("after", 0))
            end = min(self.counts.get(from_id, 0), start + ASSOCIATION_PAGE)
            if start >= end:
                continue
            result: dict[str, Any] = {
                "from": {"id": str(from_id)},
                "to": [
                    {
                        "toObjectId": 10_000 + k,
                        "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 1, "label": None}],
                    }
                    for k in range(start, end)
                ],
            }
            if end < self.counts.get(from_id, 0):
                result["paging"] = {"next": {"after": str(end)}}
            results.append(result)
        return {"status": "COMPLETE", "results": results, "startedAt": "2026-03-01T00:00:00.000Z"}


def _read_pair(counts: dict[int, int], tmp_path: Path) -> tuple[FakeAssociations, int, int]:
    tmp_path.mkdir()
    fake = FakeAssociations(counts)
    with SegmentFile(ASSOCIATION_SCHEMA, tmp_path) as out:
        rows, extra = sync_associations(fake, out, "0-2", "0-1", array("q", sorted(counts)), Watermark())  # type: ignore[arg-type]
        assert out.upload(LocalDestination(tmp_path), "pair.parquet") == rows
    table = pq.read_table(tmp_path / "pair.parquet")
    assert rows == table.num_rows == sum(counts.values())
    assert set(table.column("from_type").to_pylist()) == {"0-2"}
    for hub in (i for i, n in counts.items() if n > ASSOCIATION_PAGE):
        assert table.filter(pc.equal(table.column("from_id"), hub)).num_rows == counts[hub]
    return fake, extra, len(fake.bodies)


def test_continuations_ride_beside_fresh_ids(tmp_path: Path) -> None:
    # 2,500 records; hubs with 1,200, 600 and 501 associations need 2 + 1 + 1 continuation inputs
    counts = {i: 1 for i in range(1, 2501)} | {5: 1200, 999: 600, 1500: 501}
    fake, extra, calls = _read_pair(counts, tmp_path / "early")
    assert extra == 4
    assert calls == math.ceil((2500 + 4) / 1000) == api_call_floor({}, [(2500, 4)]) == 3
    assert all(len(b["inputs"]) <= 1000 for b in fake.bodies)
    # a continuation goes out in the call right after the page that announced it, before fresh ids
    assert fake.bodies[1]["inputs"][:2] == [{"id": "5", "after": "500"}, {"id": "999", "after": "500"}]
    assert fake.bodies[2]["inputs"][:2] == [{"id": "5", "after": "1000"}, {"id": "1500", "after": "500"}]
    # a hub met in the last call can only continue in one more: the floor plus one
    _, extra, calls = _read_pair({i: 1 for i in range(1, 2501)} | {2500: 501}, tmp_path / "late")
    assert (extra, calls) == (1, api_call_floor({}, [(2500, 1)]) + 1)


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _write(dest: LocalDestination, tmp: Path, key: str, schema: pa.Schema, rows: list[dict]) -> int:
    with SegmentFile(schema, tmp) as out:
        out.append(pa.Table.from_pylist(rows, schema=schema))
        return out.upload(dest, key)


def test_as_of_rules_on_a_two_generation_index(tmp_path: Path) -> None:
    """Records created after the day are out, archived after it in; values and UPDATEDAT from history;
    the row of a record comes from the first generation past the day; history is unioned once."""
    dest = LocalDestination(tmp_path / "store")
    tmp = tmp_path / "tmp"
    tmp.mkdir()

    def rec(object_id: int, created: str, archived_at: str | None = None) -> dict:
        return {
            "object_id": object_id,
            "created_at": _ts(created),
            "updated_at": _ts(created),
            "archived": archived_at is not None,
            "archived_at": None if archived_at is None else _ts(archived_at),
            "properties": [],
        }

    def hist(object_id: int, name: str, value: str, at: str) -> dict:
        return {
            "object_id": object_id,
            "name": name,
            "value": value,
            "timestamp": _ts(at),
            "source_type": "CRM_UI",
        }

    def segment(gen: str, part: str, records: list[dict], history: list[dict]) -> RecordSegment:
        rk, hk = segment_key(gen, "0-1", "records", part), segment_key(gen, "0-1", "history", part)
        return RecordSegment(
            "0-1",
            part,
            rk,
            hk,
            _write(dest, tmp, rk, RECORD_SCHEMA, records),
            _write(dest, tmp, hk, HISTORY_SCHEMA, history),
        )

    day1 = [hist(1, "email", "a", "2025-12-01T00:00:00Z"), hist(1, "email", "b", "2026-01-01T10:00:00Z")]
    # two values at one millisecond, stored oldest first: "y" is the one HubSpot listed as newer
    tie = [hist(1, "stage", "x", "2025-12-05T00:00:00Z"), hist(1, "stage", "y", "2025-12-05T00:00:00Z")]
    g1 = Generation(
        "g00001-a", "full", "a", "2026-01-02T00:00:00.000Z", "2026-01-02T01:00:00.000Z",
        [segment("g00001-a", "live", [rec(1, "2025-12-01T00:00:00Z"), rec(3, "2025-12-01T00:00:00Z")], day1 + tie)],
    )  # fmt: skip
    day2 = [
        *day1,
        hist(1, "email", "c", "2026-01-02T10:00:00Z"),
        hist(2, "email", "new", "2026-01-02T05:00:00Z"),
    ]
    g2 = Generation(
        "g00002-b", "full", "b", "2026-01-03T00:00:00.000Z", "2026-01-03T01:00:00.000Z",
        [
            segment("g00002-b", "live", [rec(1, "2025-12-01T00:00:00Z"), rec(2, "2026-01-02T05:00:00Z")], day2 + tie),
            segment("g00002-b", "archived", [rec(3, "2025-12-01T00:00:00Z", "2026-01-02T12:00:00Z")], []),
        ],
    )  # fmt: skip
    save_manifest(dest, IndexManifest([g1, g2]))

    def state(as_of: datetime) -> tuple[dict, dict, list]:
        batches = list(IndexReader(dest).as_of_batches("0-1", as_of, values=True, history=True))
        records = {r["object_id"]: r for b in batches for r in b.records.to_pylist()}
        values = {(v["object_id"], v["name"]): v["value"] for b in batches for v in b.values.to_pylist()}  # type: ignore[union-attr]
        history = [(h["object_id"], h["name"], h["value"]) for b in batches for h in b.history.to_pylist()]  # type: ignore[union-attr]
        return records, values, history

    records, values, history = state(datetime(2026, 1, 2, tzinfo=UTC))
    assert sorted(records) == [1, 3]  # 2 created after the day, 3 archived after it
    assert records[1]["updated_at"] == _ts("2026-01-01T10:00:00Z")
    assert records[3]["updated_at"] == _ts("2025-12-01T00:00:00Z")  # no history: createdAt
    assert iso_ms(records[1]["ingested_at"]) == "2026-01-02T01:00:00.000Z"  # from g1, the first past the day
    assert values == {(1, "email"): "b", (1, "stage"): "y"}
    assert history == [(1, "email", "a"), (1, "email", "b"), (1, "stage", "x"), (1, "stage", "y")]

    records, values, history = state(datetime(2026, 1, 3, tzinfo=UTC))
    assert sorted(records) == [1, 2]  # 3 was archived during the day
    assert iso_ms(records[1]["ingested_at"]) == "2026-01-03T01:00:00.000Z"
    assert values[(1, "email")] == "c" and values[(2, "email")] == "new"
    assert [h for h in history if h[:2] == (1, "email")] == [
        (1, "email", "a"),
        (1, "email", "b"),
        (1, "email", "c"),
    ]
    assert to_ms("2026-01-02T01:00:00.000Z") == 1767315600000


@pytest.mark.slow
def test_calls_within_ten_percent_of_the_floor_at_small(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(seed=1, scale="small", token=TOKEN, start_date=START)) as sb:
        plan = plan_of(HubSpotClient(sb.base_url, TOKEN, rate_limit_per_10s=100_000))
        outcome, _ = run_sync(sb, tmp_path, plan)
        assert outcome.api_calls == sb.total_calls()
        assert outcome.api_calls <= math.ceil(outcome.api_calls_floor * 1.10)
        # the hub company has more than 500 contacts: its continuation was followed to the end
        hub = max(
            (r.id for r in sb.account.all_records("0-2", include_archived=False, properties=())),
            key=lambda i: len(sb.account.associations("0-2", i, "0-1")),
        )
        expected = len(sb.account.associations("0-2", hub, "0-1"))
        assert expected > ASSOCIATION_PAGE
        reader = IndexReader(LocalDestination(tmp_path))
        got = {
            to_id
            for batch in reader.association_batches("0-2", "0-1")
            for from_id, to_id in zip(
                batch.column("from_id").to_pylist(), batch.column("to_id").to_pylist(), strict=True
            )
            if from_id == hub
        }
        assert len(got) == expected


class Killed(RuntimeError):
    pass


def _index_state(root: Path) -> dict[object, object]:
    """What the index serves, every type and pair, without INGESTEDAT (the time of the fetch)."""
    reader = IndexReader(LocalDestination(root))
    state: dict[object, object] = {}
    for type_id in reader.manifest.type_ids():
        batches = list(reader.as_of_batches(type_id, AS_OF, history=True))
        state[type_id] = (
            [r for b in batches for r in b.records.drop_columns(["ingested_at"]).to_pylist()],
            [h for b in batches for h in b.history.to_pylist()],  # type: ignore[union-attr]
        )
    for pair in reader.manifest.pairs():
        state[pair] = sorted(
            (r["from_id"], r["to_id"], r["type_id"], r["label"] or "")
            for b in reader.association_batches(*pair)
            for r in b.to_pylist()
        )
    return state


def _dying_client(sandbox: Sandbox, kill_after: int) -> RecordingClient:
    """A client whose process dies before its call number `kill_after + 1`."""
    client = RecordingClient(sandbox.base_url)
    request, sent = client.request, [0]

    def dying(*args: Any, **kwargs: Any) -> Any:
        sent[0] += 1
        if sent[0] > kill_after:
            raise Killed("SIGKILL")
        return request(*args, **kwargs)

    client.request = dying  # type: ignore[method-assign]
    return client


def test_a_killed_first_sync_resumes_where_it_stopped(
    sandbox: Sandbox, plan: SyncPlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of one page (100 records) and one file per pair: killed at several points, the next run
    re-reads only the chunk or pair in progress, and the index ends the same as an uninterrupted one."""
    monkeypatch.setattr(full_sync, "CHECKPOINT_RECORDS", 100)
    monkeypatch.setattr(full_sync, "ASSOCIATION_FILE_ROWS", 1)
    _kill_and_resume(sandbox, plan, tmp_path)


def test_a_killed_first_sync_resumes_from_the_batch_in_progress(
    sandbox: Sandbox, plan: SyncPlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Default chunks (10,000 records: every part of this account is within its first chunk), so
    what a kill leaves is the chunk's pending pieces: the next run re-reads one batch at most. Pages
    and batches of 10 records, so the parts of this small account take several."""
    monkeypatch.setattr(full_sync, "ASSOCIATION_FILE_ROWS", 1)
    monkeypatch.setattr(full_sync, "LIST_PAGE", 10)
    monkeypatch.setattr(full_sync, "BATCH_READ", 10)
    _kill_and_resume(sandbox, plan, tmp_path, inspect=True)


def _kill_and_resume(sandbox: Sandbox, plan: SyncPlan, tmp_path: Path, inspect: bool = False) -> None:
    whole, _ = run_sync(sandbox, tmp_path / "whole", plan)
    total = whole.api_calls
    expected = _index_state(tmp_path / "whole")
    for kill_after in (7, total // 2, total - 3):
        root = tmp_path / f"killed-{kill_after}"
        client = _dying_client(sandbox, kill_after)
        with pytest.raises(Killed):
            sync_index(LocalDestination(root), AS_OF, "killed01-run", lambda c=client: c, lambda: plan)
        assert load_manifest(LocalDestination(root)).generations == []  # nothing visible yet
        if inspect and kill_after == 7:
            progress = FullSyncProgress.load(LocalDestination(root))
            assert progress is not None
            (state,) = [p for p in progress.parts.values() if p.pending]
            assert state.chunks == [] and len(state.pending) >= 2 and state.pending_after
        resumed, again = run_sync(sandbox, root, plan)
        spent = len(again.sent)
        # at most one chunk (a list page and a batch read) or one pair's call is read twice
        assert spent <= total - kill_after + 2, (kill_after, spent)
        # the generation counts the calls its data took: those checkpointed before the kill, then these
        assert resumed.api_calls == total
        assert _index_state(root) == expected, kill_after
        assert not (root / "_state" / "index" / "full-sync-progress.json").exists()
