"""Compaction of the CRM index: every day exports the same tables (INGESTEDAT included) before and
after it, whether it merged every generation or only the first ones with more deltas after it; an
export then opens a bounded number of files; a compaction that fails leaves the index as it was; the
folders it retires are deleted by the next one."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import Destination, LocalDestination, open_destination, read_table
from hubspot_pipeline.sync.compaction import compact_index
from hubspot_pipeline.sync.full_sync import sync_plan
from hubspot_pipeline.sync.incremental import IncrementalSettings
from hubspot_pipeline.sync.index import (
    COMPACTED,
    MANIFEST_KEY,
    IndexManifest,
    generation_id,
    generation_prefix,
    load_manifest,
    save_manifest,
)
from hubspot_pipeline.sync.index_reader import READ_STATS
from hubspot_pipeline.sync.index_sync import sync_index
from hubspot_pipeline.sync.index_writer import SegmentFile
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.export import export_spec
from hubspot_pipeline.tables.registry import CRM_TABLES, SPECS, SYNC_DEFINITION_TABLES
from hubspot_pipeline_tests.fixtures_s3 import S3Bucket
from hubspot_sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.slow

TOKEN = "pat-compaction"
DAY0 = date(2026, 4, 1)
DAYS = 6  # deltas after the full sync
DEFINITIONS = SYNC_DEFINITION_TABLES
CRM = (*CRM_TABLES, "SYNC_HEALTH")
NEVER = IncrementalSettings(compact_after=10_000)


@dataclass
class Built:
    """A tiny account synced in full on DAY0 and then daily for DAYS days, never compacted."""

    sb: Sandbox
    root: Path
    manifest: IndexManifest

    def client(self) -> HubSpotClient:
        return HubSpotClient(self.sb.base_url, TOKEN, rate_limit_per_10s=100_000, sleep=lambda _: None)

    def copy(self, to: Path, manifest: IndexManifest | None = None) -> LocalDestination:
        """The store as it is, with `manifest` as its index manifest when given."""
        shutil.copytree(self.root, to)
        dest = LocalDestination(to)
        if manifest is not None:
            save_manifest(dest, manifest)
        return dest


def sync_day(sb: Sandbox, dest: LocalDestination, day: date, settings: IncrementalSettings) -> None:
    client = HubSpotClient(sb.base_url, TOKEN, rate_limit_per_10s=100_000, sleep=lambda _: None)
    ctx = ExportContext(day, dest, f"s{day:%m%d}", lambda: client)
    for name in DEFINITIONS:
        export_spec(ctx, SPECS[name])
    plan = sync_plan(*(ctx.snapshot(s).data for s in ("schemas", "properties", "association_labels")))
    sync_index(dest, ctx.as_of, ctx.run_id, lambda: client, lambda: plan, settings=settings)
    ctx.snapshot("other_objects")  # as hubspot/crm_index reads it: the tables below call nothing


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    root = tmp_path_factory.mktemp("index")
    dest = LocalDestination(root)
    with Sandbox(SandboxConfig(seed=3, scale="tiny", token=TOKEN, start_date=DAY0 + timedelta(days=1))) as sb:
        sync_day(sb, dest, DAY0, NEVER)
        for n in range(1, DAYS + 1):
            sb.advance(days=1)
            sync_day(sb, dest, DAY0 + timedelta(days=n), NEVER)
        manifest = load_manifest(dest)
        assert [g.kind for g in manifest.generations] == ["full"] + ["delta"] * DAYS
        yield Built(sb, root, manifest)


def exports(dest: Destination, days: list[date]) -> dict[tuple[date, str], list[tuple]]:
    """Every CRM table of every day, as the rows read back (every column, INGESTEDAT included)."""
    found = {}
    for day in days:
        ctx = ExportContext(day, dest, f"e{day:%m%d}", lambda: pytest.fail("an export called HubSpot"))
        for name in CRM:
            outcome = export_spec(ctx, SPECS[name])
            assert all(c.passed for c in outcome.checks), (day, name, outcome.checks)
            for written in outcome.tables:
                table = read_table(dest, day.isoformat(), written.result.table)
                found[(day, written.result.table)] = list(zip(*table.to_pydict().values(), strict=True))
    return found


EVERY_DAY = [DAY0 + timedelta(days=n) for n in range(DAYS + 1)]


@pytest.fixture(scope="module")
def uncompacted(built: Built, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return exports(built.copy(tmp_path_factory.mktemp("u") / "s"), EVERY_DAY)


def test_every_day_exports_the_same_tables_after_compacting_every_generation(
    built: Built, uncompacted: dict, tmp_path: Path
) -> None:
    dest = built.copy(tmp_path / "s")
    manifest = compact_index(dest, "compact1")
    assert [g.kind for g in manifest.generations] == [COMPACTED]
    assert [c.id for c in manifest.generations[0].covers] == [g.id for g in built.manifest.generations]
    assert manifest.watermark == built.manifest.watermark
    assert load_manifest(dest) == manifest
    # the compacted records keep several versions of the records that changed
    versions = [
        pq.read_table(tmp_path / "s" / s.records, columns=["object_id"])
        for s in manifest.generations[0].segments
    ]
    assert sum(t.num_rows for t in versions) > sum(len(pc.unique(t.column("object_id"))) for t in versions)
    got = exports(dest, EVERY_DAY)
    assert got.keys() == uncompacted.keys()
    for key, rows in uncompacted.items():
        assert got[key] == rows, key
    assert all(uncompacted[(day, "OBJECT_PROPERTIES_HISTORY")] for day in EVERY_DAY)


def test_a_compacted_base_with_deltas_after_it_and_its_recompaction_export_the_same(
    built: Built, uncompacted: dict, tmp_path: Path
) -> None:
    gens = built.manifest.generations
    dest = built.copy(tmp_path / "s", IndexManifest(gens[:3]))
    base = compact_index(dest, "compact1")
    mixed = IndexManifest([*base.generations, *gens[3:]], base.retired)
    save_manifest(dest, mixed)
    assert [g.kind for g in mixed.generations] == [COMPACTED, *(["delta"] * (DAYS - 2))]
    assert [g.id for g in mixed.timeline()] == [g.id for g in gens]
    days = [DAY0, DAY0 + timedelta(days=2), DAY0 + timedelta(days=3), DAY0 + timedelta(days=DAYS)]
    got = exports(dest, days)
    for day in days:
        for name in CRM:
            assert got[(day, name)] == uncompacted[(day, name)], (day, name)
    again = compact_index(dest, "compact2")
    assert len(again.timeline()) == len(gens) and len(again.generations) == 1
    got = exports(dest, days)
    for key, rows in got.items():
        assert rows == uncompacted[key], key


def test_an_export_of_a_compacted_index_opens_no_more_files_than_one_of_its_first_day(
    built: Built, tmp_path: Path
) -> None:
    def files_opened(dest: LocalDestination, day: date) -> int:
        READ_STATS.reset()
        exports(dest, [day])
        return READ_STATS.files

    last = DAY0 + timedelta(days=DAYS)
    first_day = files_opened(built.copy(tmp_path / "g1", IndexManifest(built.manifest.generations[:1])), DAY0)
    uncompacted = files_opened(built.copy(tmp_path / "u"), last)
    dest = built.copy(tmp_path / "c")
    compact_index(dest, "compact1")
    compacted = files_opened(dest, last)
    assert uncompacted > 3 * compacted  # every generation's files, against one segment per type
    assert compacted <= first_day  # the full sync has a live and an archived segment per type


def test_a_failed_compaction_leaves_the_index_as_it_was(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = built.copy(tmp_path / "s")
    before = (tmp_path / "s" / MANIFEST_KEY).read_bytes()
    upload, count = SegmentFile.upload, [0]

    def failing(self: SegmentFile, destination: LocalDestination, key: str) -> int:
        count[0] += 1
        if count[0] > 5:
            raise OSError("disk lost")
        return upload(self, destination, key)

    monkeypatch.setattr(SegmentFile, "upload", failing)
    with pytest.raises(OSError, match="disk lost"):
        compact_index(dest, "compact1")
    assert (tmp_path / "s" / MANIFEST_KEY).read_bytes() == before
    monkeypatch.setattr(SegmentFile, "upload", upload)
    # the failed run's folder is an orphan: the next compaction retires it with the merged ones
    manifest = compact_index(dest, "compact2")
    assert generation_prefix(generation_id(len(built.manifest.generations) + 1, "compact1")) in (
        manifest.retired
    )


def test_the_daily_sync_compacts_after_the_set_number_of_generations_and_deletes_what_it_retired(
    built: Built, tmp_path: Path
) -> None:
    dest = built.copy(tmp_path / "s", IndexManifest(built.manifest.generations[:2]))
    every = replace(NEVER, compact_after=2)
    # the sandbox has moved on: this day's delta reads the changes of several days, which is fine
    sync_day(built.sb, dest, DAY0 + timedelta(days=DAYS + 1), every)
    first = load_manifest(dest)
    assert [g.kind for g in first.generations] == [COMPACTED]
    assert len(first.timeline()) == 3
    retired = set(first.retired)
    assert all(list((tmp_path / "s").glob(p.rstrip("/") + "/**/*.parquet")) for p in retired)
    built.sb.advance(days=1)
    sync_day(built.sb, dest, DAY0 + timedelta(days=DAYS + 2), every)
    assert len(load_manifest(dest).generations) == 2  # one delta after the compacted base: not yet
    built.sb.advance(days=1)
    sync_day(built.sb, dest, DAY0 + timedelta(days=DAYS + 3), every)
    second = load_manifest(dest)
    assert [g.kind for g in second.generations] == [COMPACTED] and len(second.timeline()) == 5
    files = [p for p in (tmp_path / "s" / "_state" / "index").rglob("*") if p.is_file()]
    on_store = {p.relative_to(tmp_path / "s" / "_state" / "index").parts[0] for p in files}
    assert not on_store & {p.split("/")[2] for p in retired}  # the first compaction's leftovers are gone
    assert on_store == {p.split("/")[2] for p in second.retired} | {second.generations[0].id, "manifest.json"}


def test_compaction_on_s3_exports_the_same_and_retires_through_the_bucket(
    built: Built, uncompacted: dict, s3_bucket: S3Bucket
) -> None:
    """The index on a bucket (moto over HTTP): compaction reads it through local copies, writes its
    files with multipart uploads, and the day exports as it did from the uncompacted local index."""
    dest = open_destination(f"{s3_bucket.url}/export")
    for path in sorted(built.root.rglob("*")):
        if path.is_file():
            dest.put_file(path.relative_to(built.root).as_posix(), path)
    manifest = compact_index(dest, "compact1")
    assert [g.kind for g in manifest.generations] == [COMPACTED]
    assert load_manifest(dest) == manifest
    day = DAY0 + timedelta(days=DAYS)
    got = exports(dest, [day])
    for name in CRM:
        assert got[(day, name)] == uncompacted[(day, name)], name
    assert set(manifest.retired) == {generation_prefix(g.id) for g in built.manifest.generations}
