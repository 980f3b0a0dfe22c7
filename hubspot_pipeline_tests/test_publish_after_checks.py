"""A table is published only after its blocking checks pass.

The staged `TableWriter` holds the manifest back until `publish()`; a failed check (a duplicate key, a
dangling reference, injected into a CRM table's batches) leaves every object of the day byte for byte as
it was, and the export and the asset report the failed check with counts and examples; a passing re-run
replaces the day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest
from dagster_aws.s3 import S3Resource

from hubspot_pipeline.defs.account import DEFAULT_ACCOUNT
from hubspot_pipeline.defs.account_defs import account_resources
from hubspot_pipeline.defs.assets import asset_key, build_spec_asset
from hubspot_pipeline.defs.partitions import daily_partitions
from hubspot_pipeline.defs.resources import ExportStoreResource, HubSpotResource
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import Column, LocalDestination, TableWriter, read_manifest, read_table
from hubspot_pipeline.sync.full_sync import sync_plan
from hubspot_pipeline.sync.incremental import EXACT
from hubspot_pipeline.sync.index_sync import sync_index
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.export import ExportOutcome, export_spec
from hubspot_pipeline.tables.registry import CRM_TABLES, SPECS, SYNC_DEFINITION_TABLES
from hubspot_pipeline.tables.spec import TableData, TableSpec
from hubspot_sandbox import Sandbox, SandboxConfig

TOKEN = "pat-publish-token"
START = date(2026, 3, 1)
DAY0 = START - timedelta(days=1)
DAY = "2026-11-21"
AS_OF = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
COLUMNS = [Column("OWNERID", "integer"), Column("EMAIL")]
DEFINITIONS = SYNC_DEFINITION_TABLES
CRM = CRM_TABLES
DANGLING_ID = 999_999_999_999


def folder(root: Path, day: str) -> dict[str, bytes]:
    """Every object of the day's folder with its bytes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / day).rglob("*")) if p.is_file()
    }


# -- the staged writer ----------------------------------------------------------------------------------


def write(dest: LocalDestination, run_id: str, rows: list[tuple], *, staged: bool = False) -> TableWriter:
    writer = TableWriter(
        dest, DAY, "OWNERS", COLUMNS, run_id=run_id, account_id=1, as_of=AS_OF, staged=staged
    )
    with writer:
        writer.write_rows(rows)
    return writer


def test_a_staged_table_is_invisible_until_published(tmp_path: Path) -> None:
    dest = LocalDestination(tmp_path)
    write(dest, "runa0001", [(1, "a@x")])
    before = folder(tmp_path, DAY)
    staged = write(dest, "runb0001", [(2, "b@x"), (3, "c@x")], staged=True)
    # the new part is there, named by no manifest: readers still see the earlier run
    assert set(folder(tmp_path, DAY)) - set(before) == {f"{DAY}/OWNERS/part-runb0001-00000.csv.gz"}
    assert {k: v for k, v in folder(tmp_path, DAY).items() if k in before} == before
    assert read_table(dest, DAY, "OWNERS").column("OWNERID").to_pylist() == ["1"]
    assert staged.result.rows == 2

    staged.publish()
    manifest = read_manifest(dest, DAY, "OWNERS")
    assert manifest["run_id"] == "runb0001"
    assert sorted(folder(tmp_path, DAY)) == [
        f"{DAY}/OWNERS/_manifest.json",
        f"{DAY}/OWNERS/part-runb0001-00000.csv.gz",
    ]
    assert folder(tmp_path, DAY)[f"{DAY}/OWNERS/_manifest.json"] == staged.pending_manifest
    assert read_table(dest, DAY, "OWNERS").column("OWNERID").to_pylist() == ["2", "3"]
    staged.discard()  # a no-op once published
    assert read_table(dest, DAY, "OWNERS").num_rows == 2


def test_a_discarded_or_killed_staged_run_leaves_the_earlier_run(tmp_path: Path) -> None:
    dest = LocalDestination(tmp_path)
    write(dest, "runa0001", [(1, "a@x")])
    before = folder(tmp_path, DAY)
    write(dest, "runb0001", [(2, "b@x")], staged=True).discard()
    assert folder(tmp_path, DAY) == before

    write(dest, "runc0001", [(3, "c@x")], staged=True)  # never published: the process was killed
    assert read_table(dest, DAY, "OWNERS").column("OWNERID").to_pylist() == ["1"]
    with pytest.raises(RuntimeError, match="only a staged table"):
        write(dest, "rund0001", [(4, "d@x")]).publish()  # the default mode published on exit already
    # the next published run removes what the killed one left
    assert sorted(folder(tmp_path, DAY)) == [
        f"{DAY}/OWNERS/_manifest.json",
        f"{DAY}/OWNERS/part-rund0001-00000.csv.gz",
    ]


# -- an exported CRM day ------------------------------------------------------------------------------------


@dataclass
class Day:
    sb: Sandbox
    root: Path
    dest: LocalDestination

    def context(self, run_id: str) -> ExportContext:
        return ExportContext(DAY0, self.dest, run_id, lambda: None)  # type: ignore[arg-type,return-value]

    def folder(self) -> dict[str, bytes]:
        return folder(self.root, DAY0.isoformat())

    def resources(self, tmp: Path) -> dict[str, object]:
        hubspot = HubSpotResource(access_token=TOKEN, base_url=self.sb.base_url, pace_file=str(tmp / "pace"))
        store = ExportStoreResource(export_url=str(self.root), s3=S3Resource())
        return account_resources(DEFAULT_ACCOUNT, hubspot, store)


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    root = tmp_path_factory.mktemp("publish") / "export"
    with Sandbox(SandboxConfig(seed=5, scale="tiny", token=TOKEN, start_date=START)) as sb:
        client = HubSpotClient(sb.base_url, TOKEN, rate_limit_per_10s=1_000_000)
        ctx = ExportContext(DAY0, LocalDestination(root), "first001", lambda: client)
        for table in DEFINITIONS:
            export_spec(ctx, SPECS[table])
        plan = sync_plan(*(ctx.snapshot(s).data for s in ("schemas", "properties", "association_labels")))
        sync_index(ctx.destination, ctx.as_of, ctx.run_id, lambda: client, lambda: plan, settings=EXACT)
        outcomes = [export_spec(ctx, SPECS[t]) for t in CRM]
        assert all(o.published and not o.failed for o in outcomes), [o.failed for o in outcomes]
        yield Day(sb, root, LocalDestination(root))


def injecting(spec: TableSpec, extra: Callable[[pa.RecordBatch], pa.RecordBatch]) -> TableSpec:
    """The spec with one more batch, `extra(first batch)`, after the first batch of its combined table."""

    def produce(ctx: ExportContext, spec_: TableSpec) -> Iterator[TableData]:
        tables = spec.produce(ctx, spec_)
        combined = next(tables)

        def batches() -> Iterator[pa.RecordBatch]:
            stream = iter(combined.rows)
            first = next(stream)
            assert isinstance(first, pa.RecordBatch)
            yield from (first, extra(first))
            yield from stream  # type: ignore[misc]

        yield replace(combined, rows=batches())
        yield from tables

    return replace(spec, produce=produce)


def first_row_again(batch: pa.RecordBatch) -> pa.RecordBatch:
    return batch.slice(0, 1)


def first_row_from_nowhere(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The first association again, from a record that does not exist."""
    row = batch.slice(0, 1)
    arrays = [
        pa.array([DANGLING_ID], pa.int64()) if n == "FROMOBJECTID" else row.column(n)
        for n in row.schema.names
    ]
    return pa.RecordBatch.from_arrays(arrays, names=row.schema.names)


def failed(outcome: ExportOutcome, name: str) -> dict:
    assert not outcome.published
    assert [c.name for c in outcome.failed] == [name], outcome.failed
    return outcome.failed[0].metadata


@pytest.mark.slow
def test_a_duplicate_key_fails_the_export_and_leaves_the_day_untouched(day: Day) -> None:
    spec = SPECS["OBJECT_PROPERTIES_HISTORY"]
    first = read_table(day.dest, DAY0.isoformat(), spec.name).slice(0, 1).to_pylist()[0]
    before = day.folder()
    metadata = failed(
        export_spec(day.context("dupkey01"), injecting(spec, first_row_again)), "primary_key_unique"
    )
    assert day.folder() == before
    assert metadata["duplicate_keys"] == 1
    assert metadata["examples"] == [[first[k] for k in spec.primary_key]]


@pytest.mark.slow
def test_a_dangling_reference_fails_every_table_of_the_spec_and_leaves_them_untouched(day: Day) -> None:
    spec = SPECS["ASSOCIATIONS"]
    before = day.folder()
    outcome = export_spec(day.context("dangle01"), injecting(spec, first_row_from_nowhere))
    metadata = failed(outcome, "references_objects_via_fromobjecttypeid_fromobjectid")
    assert len(outcome.tables) == 1  # the combined table failed: its per-pair tables were not written
    assert day.folder() == before
    source = read_table(day.dest, DAY0.isoformat(), spec.name).column("FROMOBJECTTYPEID")[0].as_py()
    assert metadata == {"dangling": 1, "examples": [[source, str(DANGLING_ID)]]}


@pytest.mark.slow
def test_the_asset_reports_the_failed_check_for_the_partition_and_materializes_nothing(
    day: Day, tmp_path: Path
) -> None:
    spec = injecting(SPECS["OBJECT_PROPERTIES_HISTORY"], first_row_again)
    table = build_spec_asset(spec, ())

    @dg.asset(deps=[table.key], partitions_def=daily_partitions)
    def downstream() -> None: ...

    before = day.folder()
    result = dg.materialize(
        [table, downstream],
        partition_key=DAY0.isoformat(),
        resources=day.resources(tmp_path),
        raise_on_error=False,
    )
    assert not result.success
    assert day.folder() == before
    assert result.get_asset_materialization_events() == []  # neither the table nor what follows it
    assert [e.step_key for e in result.get_step_success_events()] == []
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert {n for n, e in evaluations.items() if not e.passed} == {"primary_key_unique"}
    check = evaluations["primary_key_unique"]
    assert check.asset_key == asset_key(spec.name)
    assert check.partition == DAY0.isoformat()
    assert check.metadata["duplicate_keys"].value == 1
    assert len(check.metadata["examples"].value) == 1
    failure = result.failure_data_for_node(table.op.name)
    assert failure is not None and "primary_key_unique" in failure.error.message


@pytest.mark.slow
def test_a_passing_rerun_replaces_the_day(day: Day) -> None:
    spec = SPECS["OBJECT_PROPERTIES_HISTORY"]
    before = read_table(day.dest, DAY0.isoformat(), spec.name)
    outcome = export_spec(day.context("rerun001"), spec)
    assert outcome.published and not outcome.failed
    keys = [k for k in day.folder() if k.startswith(f"{DAY0.isoformat()}/{spec.name}/")]
    assert keys and all(k.endswith("_manifest.json") or "/part-rerun001-" in k for k in keys)
    assert read_manifest(day.dest, DAY0.isoformat(), spec.name)["run_id"] == "rerun001"
    assert read_table(day.dest, DAY0.isoformat(), spec.name).equals(before)
