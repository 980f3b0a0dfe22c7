"""A year of daily generations: CRM export cost at G = 1, 30 and N generations, without and with compaction.

How the index is built (once, into a temp folder):
1. day 0: the definition tables and a full sync of a sandbox account (generation 1); then, for the
   first `--real-days` days, real daily runs as `crm_incremental.py` does them (`advance(1)`, the
   definition tables, `sync_index`): one `delta` generation per day;
2. then *replicated* deltas up to N = `--days` generations: the segment files of the real delta
   generations, cycled through, copied under new generation ids with the watermark and ingested_at
   shifted by whole days, appended to the manifest. They hold the same records and history entries as
   the real days they copy (the export deduplicates history), so the exported rows barely grow past
   the last real day while the files the index lists keep growing: the cost of a year of deltas.
   (A copied association refresh re-applies its day's rows, so ASSOCIATIONS at N may hold fewer
   rows than at the last real day.)
   Day N gets a copy of the last real day's definition snapshots (the days between borrow them).
The manifest at G = 1, 30 and N is kept: the index as it was after G generations is that manifest
over the same (immutable) segment files.

What is measured, per CRM table (OBJECTS, OBJECT_PROPERTIES, OBJECT_PROPERTIES_HISTORY, ASSOCIATIONS,
OBJECT_WITH_OBJECT_PROPERTIES), at G = 1, 30, N, without and with compaction (`compact_index` on a
hard-linked copy of the index at G): `export_spec` for the day of generation G (as of the end of that
day), each in a fresh child process, which reports
- cpu_s: `time.process_time()` of the export (checks included),
- rows: the combined table's rows (and the per-type / per-pair tables' total, `rows_per_type`),
- rss_mb: the child's peak RSS (`VmHWM`: `ru_maxrss` would count the parent's too), imports included,
- files: index segment files opened (`index_reader.READ_STATS.files`).
Plus the part writer next to `pyarrow.csv.write_csv` + zlib level 6, on the same data: the
OBJECT_PROPERTIES_HISTORY export of G = 1 read back as all-string Arrow columns, written through
`LocalDestination.table_writer(...).write_batch` (all-string columns) and, separately, rendered by
`write_csv` into a buffer and `zlib.compress`ed at level 6; rows/s of CPU time (best of 3) and bytes.

Prints one line per (table, G, compacted), then the ratios the targets are about, and writes every
figure to the JSON file as `{"name", "table", "value", "unit", "scale", "generations", "compacted"}`.

    .venv/bin/python -m bench.index_years [--scale small] [--days 365] [--real-days 30] [--json PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import Column, LocalDestination, read_manifest
from hubspot_pipeline.sync.index import (
    INDEX_PREFIX,
    Generation,
    IndexManifest,
    generation_id,
    load_manifest,
    save_manifest,
)
from hubspot_pipeline.sync.snapshots import PREFIX as SNAPSHOT_PREFIX
from hubspot_pipeline.sync.timestamps import iso_ms, parse_ts
from hubspot_pipeline.tables.registry import SYNC_DEFINITION_TABLES

TOKEN = "pat-bench"
START = date(2026, 3, 1)
DAY0 = START - timedelta(days=1)  # the full sync's day, as in crm_incremental.py
DEFINITIONS = SYNC_DEFINITION_TABLES
# OBJECTS first: the reference checks of ASSOCIATIONS read the day's OBJECTS back
TABLES = (
    "OBJECTS",
    "OBJECT_PROPERTIES",
    "OBJECT_PROPERTIES_HISTORY",
    "ASSOCIATIONS",
    "OBJECT_WITH_OBJECT_PROPERTIES",
)
WRITER_TABLE = "OBJECT_PROPERTIES_HISTORY"
TARGETS = {"cpu_per_row": 1.25, "rss": 1.10, "writer_rows_per_s": 530_000, "writer_bytes": 1.10}
RESULTS = Path(__file__).resolve().parent / "results" / "index_years.json"


def log(message: str) -> None:
    print(f"[index_years {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def day_of(generation: int) -> date:
    """The day whose daily run wrote generation `generation` (1 = the full sync of day 0)."""
    return DAY0 + timedelta(days=generation - 1)


# -- building the index ------------------------------------------------------------------------------


def sync_day(sandbox: Any, root: Path, day: date) -> None:
    """One day's run: the definition tables, then the index sync (as crm_incremental.py)."""
    from hubspot_pipeline.sync.full_sync import sync_plan
    from hubspot_pipeline.sync.incremental import IncrementalSettings
    from hubspot_pipeline.sync.index_sync import sync_index
    from hubspot_pipeline.tables.context import ExportContext
    from hubspot_pipeline.tables.export import export_spec
    from hubspot_pipeline.tables.registry import SPECS

    client = HubSpotClient(sandbox.base_url, TOKEN, rate_limit_per_10s=1_000_000)
    ctx = ExportContext(day, LocalDestination(root), f"bench{day:%m%d}", lambda: client)
    for table in DEFINITIONS:
        export_spec(ctx, SPECS[table])
    plan = sync_plan(*(ctx.snapshot(s).data for s in ("schemas", "properties", "association_labels")))
    settings = IncrementalSettings.from_env()
    if hasattr(settings, "compact_after"):  # the generations are kept apart: this benchmark compacts them
        settings = dataclasses.replace(settings, compact_after=1 << 30)
    outcome = sync_index(
        ctx.destination, ctx.as_of, ctx.run_id, lambda: client, lambda: plan, settings=settings
    )
    assert outcome.generation is not None, f"no generation for {day}"


def sync_real_days(root: Path, scale: str, generations: int) -> None:
    """The full sync of day 0 and the real daily syncs after it: `generations` generations in all."""
    from hubspot_sandbox import Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(seed=1, scale=scale, token=TOKEN, start_date=START)) as sandbox:
        for g in range(1, generations + 1):
            if g > 1:
                sandbox.advance(days=1)
            started = time.perf_counter()
            sync_day(sandbox, root, day_of(g))
            log(f"generation {g} ({day_of(g)}): real sync in {time.perf_counter() - started:.1f} s")


def _shift(stamp: str, days: int) -> str:
    return iso_ms(parse_ts(stamp) + timedelta(days=days)) or stamp


def replicate(root: Path, source: Generation, source_position: int, position: int) -> Generation:
    """A copy of a real delta generation as generation `position`: its files copied under the new id,
    watermark and ingested_at moved on by the days between them."""
    gen = generation_id(position, f"rep{position:05d}")
    old_prefix, new_prefix = f"{INDEX_PREFIX}/{source.id}/", f"{INDEX_PREFIX}/{gen}/"
    copied: dict[str, str] = {}

    def copy(key: str) -> str:
        if not key:
            return key
        if key not in copied:
            assert key.startswith(old_prefix), key
            copied[key] = new_prefix + key[len(old_prefix) :]
            target = root / copied[key]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / key, target)
        return copied[key]

    shift = position - source_position
    return dataclasses.replace(
        source,
        id=gen,
        run_id=f"rep{position:05d}-bench",
        watermark=_shift(source.watermark, shift),
        ingested_at=_shift(source.ingested_at, shift),
        segments=[
            dataclasses.replace(s, records=copy(s.records), history=copy(s.history)) for s in source.segments
        ],
        associations=[
            dataclasses.replace(a, key=copy(a.key), refreshed_key=copy(a.refreshed_key))
            for a in source.associations
        ],
    )


def replicate_to(root: Path, generations: int) -> IndexManifest:
    """Append replicated deltas (cycling through the real ones) until the index has `generations`."""
    dest = LocalDestination(root)
    manifest = load_manifest(dest)
    real = list(manifest.generations)
    deltas = [(i + 1, g) for i, g in enumerate(real) if g.kind == "delta"]
    if generations > len(real):
        if not deltas:
            raise SystemExit("replicating needs at least one real delta generation (--real-days >= 2)")
        added = []
        for position in range(len(real) + 1, generations + 1):
            source_position, source = deltas[(position - len(real) - 1) % len(deltas)]
            added.append(replicate(root, source, source_position, position))
        manifest = IndexManifest([*real, *added])
        save_manifest(dest, manifest)
        copy_snapshots(root, day_of(len(real)), day_of(generations))
    return manifest


def copy_snapshots(root: Path, source: date, target: date) -> None:
    """The definition snapshots of `source` as `target`'s (the days between borrow them)."""
    src = root / SNAPSHOT_PREFIX / source.isoformat()
    shutil.copytree(src, root / SNAPSHOT_PREFIX / target.isoformat(), dirs_exist_ok=True)


def build_index(root: Path, scale: str, generations: int, real_days: int) -> IndexManifest:
    real = min(real_days, generations)
    sync_real_days(root, scale, real)
    started = time.perf_counter()
    manifest = replicate_to(root, generations)
    log(f"replicated generations {real + 1}..{generations} in {time.perf_counter() - started:.1f} s")
    return manifest


def store_at(index_root: Path, into: Path, manifest: IndexManifest) -> Path:
    """A store whose index is `manifest`: `_state/` of the built index hard-linked (files are immutable
    and every write replaces a file by rename, so the copies never affect each other)."""
    shutil.copytree(index_root / "_state", into / "_state", copy_function=os.link)
    save_manifest(LocalDestination(into), manifest)
    return into


def compaction() -> Any:
    """`compact_index`, or None while `hubspot_pipeline.sync.compaction` does not define it."""
    try:
        from hubspot_pipeline.sync import compaction as module
    except ImportError:
        return None
    return getattr(module, "compact_index", None)


def compact(store: Path, generations: int) -> float:
    """Compact the store's index in place (its manifest becomes the compacted one); CPU seconds."""
    compact_index = compaction()
    started = time.process_time()
    compact_index(LocalDestination(store), f"cmp{generations:05d}")
    return time.process_time() - started


# -- one export, in its own process ----------------------------------------------------------------


def _no_api() -> HubSpotClient:
    raise RuntimeError("a CRM table asked for the API: a definition snapshot is missing")


def peak_rss_mb() -> float:
    """This process's peak RSS: `VmHWM`, the high-water mark of its own address space. (`ru_maxrss`
    also counts the parent's at the fork: Linux keeps it across `execve`.)"""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure_export(root: str, day: str, table: str, run_id: str) -> dict[str, Any]:
    """Export one table for `day` in this process; its CPU seconds, rows, peak RSS and files read."""
    from hubspot_pipeline.sync.index_reader import READ_STATS
    from hubspot_pipeline.tables.context import ExportContext
    from hubspot_pipeline.tables.export import export_spec
    from hubspot_pipeline.tables.registry import SPECS

    ctx = ExportContext(date.fromisoformat(day), LocalDestination(root), run_id, _no_api)
    READ_STATS.reset()
    started = time.process_time()
    outcome = export_spec(ctx, SPECS[table])
    cpu = time.process_time() - started
    return {
        "cpu_s": round(cpu, 3),
        "rows": outcome.main.result.rows,
        "rows_per_type": sum(t.result.rows for t in outcome.tables[1:]),
        "tables": len(outcome.tables),
        "rss_mb": round(peak_rss_mb(), 1),
        "files": READ_STATS.files,
        "checks_passed": all(c.passed for c in outcome.checks),
    }


def run_child(store: Path, generations: int, table: str, compacted: bool) -> dict[str, Any]:
    run_id = f"x{generations:05d}{'c' if compacted else 'u'}"
    command = [
        sys.executable,
        __file__,
        "--measure",
        str(store),
        day_of(generations).isoformat(),
        table,
        run_id,
    ]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"export of {table} at G={generations} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- the part writer next to write_csv + zlib-6 ----------------------------------------------------


def read_back(store: Path, day: date, table: str) -> Any:
    """An exported table as one Arrow table of all-string columns (NULL as null)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    manifest = read_manifest(LocalDestination(store), day.isoformat(), table)
    assert manifest is not None, f"{table} of {day} was not exported"
    names = [c["name"] for c in manifest["columns"]]
    convert = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    parse = pa_csv.ParseOptions(newlines_in_values=True)
    parts = [
        pa_csv.read_csv(
            pa.input_stream(str(store / p["key"]), compression="gzip"),
            parse_options=parse,
            convert_options=convert,
        )
        for p in manifest["parts"]
    ]
    return pa.concat_tables(parts).combine_chunks()


def _best_cpu(run: Any, repeats: int) -> tuple[float, Any]:
    """The least CPU time of `repeats` runs of `run()`, and the last run's answer."""
    times, answer = [], None
    for _ in range(repeats):
        started = time.process_time()
        answer = run()
        times.append(time.process_time() - started)
    return min(times), answer


def writer_figures(data: Any, repeats: int = 3) -> dict[str, float]:
    """Rows/s (CPU) and bytes of the part writer and of write_csv + zlib-6 on the same Arrow table."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    columns = [Column(name) for name in data.schema.names]
    out = Path(tempfile.mkdtemp(prefix="index-years-writer-"))

    def part_writer() -> int:
        with LocalDestination(out).table_writer(
            DAY0.isoformat(),
            WRITER_TABLE,
            columns,
            run_id="writer01",
            account_id=1,
            as_of=datetime.combine(START, datetime.min.time()),
        ) as writer:
            writer.write_batch(data)
        return writer.result.bytes

    def zlib6() -> int:
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(data, sink)
        return len(zlib.compress(sink.getvalue().to_pybytes(), level=6))

    try:
        writer_s, writer_bytes = _best_cpu(part_writer, repeats)
        zlib_s, zlib_bytes = _best_cpu(zlib6, repeats)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {
        "rows": data.num_rows,
        "writer_rows_per_s": data.num_rows / writer_s,
        "writer_bytes": writer_bytes,
        "zlib6_rows_per_s": data.num_rows / zlib_s,
        "zlib6_bytes": zlib_bytes,
    }


# -- the run ----------------------------------------------------------------------------------------


@dataclasses.dataclass
class Measured:
    table: str
    generations: int
    compacted: bool
    figures: dict[str, Any]


def measure_all(index_root: Path, work: Path, manifests: dict[int, IndexManifest]) -> Iterator[Measured]:
    """Every (G, compacted, table) export, each in a fresh child process on a store of its own; with
    compaction, the compaction's CPU seconds too (table `COMPACTION`)."""
    can_compact = compaction() is not None
    for generations, manifest in manifests.items():
        for compacted in (False, True) if can_compact else (False,):
            store = store_at(index_root, work / f"G{generations}-{'c' if compacted else 'u'}", manifest)
            if compacted:
                cpu = compact(store, generations)
                log(f"G={generations}: compacted in {cpu:.1f} s CPU")
                yield Measured("COMPACTION", generations, compacted, {"cpu_s": round(cpu, 3)})
            for table in TABLES:
                figures = run_child(store, generations, table, compacted)
                log(f"G={generations} compacted={compacted} {table}: {figures}")
                yield Measured(table, generations, compacted, figures)


def ratio(measured: list[Measured], key: str, compacted: bool, first: int, last: int) -> float | None:
    """Sum of `key` per exported row of the five tables at `last` over the same at `first`; for
    rss_mb, the largest of the five at `last` over the largest at `first`."""

    def at(g: int) -> list[Measured]:
        return [m for m in measured if m.generations == g and m.compacted == compacted]

    if not at(first) or not at(last):
        return None
    if key == "rss_mb":
        return max(m.figures["rss_mb"] for m in at(last)) / max(m.figures["rss_mb"] for m in at(first))

    def per_row(g: int) -> float:
        return sum(m.figures[key] for m in at(g)) / max(1, sum(m.figures["rows"] for m in at(g)))

    return per_row(last) / per_row(first)


def report(
    args: argparse.Namespace, measured: list[Measured], writer: dict[str, float], real: int
) -> tuple[list[str], list[dict[str, Any]]]:
    """The printed lines and the JSON figures."""
    n = args.days
    lines = [
        f"scale={args.scale} generations N={n}: a full sync (day 0), real daily syncs up to G={real}, "
        f"then {max(0, n - real)} replicated deltas (copies of the real deltas' files, cycled, "
        "watermark and ingested_at shifted by whole days; their association refreshes re-apply "
        "the copied day's rows)",
        f"{'table':<30} {'G':>4} {'compacted':>9} {'cpu_s':>8} {'rows':>10} {'rows_per_type':>13} "
        f"{'rss_mb':>7} {'files':>6} checks",
    ]
    figures: list[dict[str, Any]] = []
    compactions = [m for m in measured if m.table == "COMPACTION"]
    measured = [m for m in measured if m.table in TABLES]

    def figure(name: str, table: str, value: float, unit: str, g: int, compacted: bool) -> None:
        figures.append(
            {
                "name": name,
                "table": table,
                "value": value,
                "unit": unit,
                "scale": args.scale,
                "generations": g,
                "compacted": compacted,
            }
        )

    for m in sorted(measured, key=lambda m: (TABLES.index(m.table), m.compacted, m.generations)):
        f = m.figures
        lines.append(
            f"{m.table:<30} {m.generations:>4} {m.compacted!s:>9} {f['cpu_s']:>8.2f} {f['rows']:>10} "
            f"{f['rows_per_type'] if f['tables'] > 1 else '-':>13} {f['rss_mb']:>7.0f} {f['files']:>6} "
            f"{'passed' if f['checks_passed'] else 'FAILED'}"
        )
        for name, key, unit in (
            ("export_cpu", "cpu_s", "cpu_s"),
            ("rows_exported", "rows", "rows"),
            ("rows_exported_per_type", "rows_per_type", "rows"),
            ("peak_rss", "rss_mb", "rss_mb"),
            ("index_files_read", "files", "files"),
        ):
            if key != "rows_per_type" or f["tables"] > 1:  # OBJECTS_<PLURAL>, ASSOCIATIONS_<A>_TO_<B>
                figure(name, m.table, f[key], unit, m.generations, m.compacted)
    if not any(m.compacted for m in measured):
        lines.append(
            "compacted: not measured (hubspot_pipeline.sync.compaction.compact_index does not exist yet)"
        )
    for m in compactions:
        lines.append(f"compaction of the index at G={m.generations}: {m.figures['cpu_s']:.2f} cpu_s")
        figure("compaction_cpu", "INDEX", m.figures["cpu_s"], "cpu_s", m.generations, True)
    cpu = {c: ratio(measured, "cpu_s", c, 1, n) for c in (False, True)}
    rss = {c: ratio(measured, "rss_mb", c, 1, n) for c in (False, True)}

    def both(ratios: dict[bool, float | None]) -> str:
        return ", ".join(f"{'compacted' if c else 'uncompacted'} {r:.2f}x" for c, r in ratios.items() if r)

    lines += [
        f"ratios, G={n} over G=1, the five tables:",
        f"  export CPU per exported row (summed)  {both(cpu)}  (target <= {TARGETS['cpu_per_row']:.2f}x, compacted)",
        f"  peak RSS (largest of the five)        {both(rss)}  (target <= {TARGETS['rss']:.2f}x)",
    ]
    for c in (False, True):
        if cpu[c] is not None and rss[c] is not None:
            figure("export_cpu_per_row_ratio", "ALL", round(cpu[c], 3), "ratio", n, c)
            figure("peak_rss_ratio", "ALL", round(rss[c], 3), "ratio", n, c)
    bytes_ratio = writer["writer_bytes"] / writer["zlib6_bytes"]
    lines += [
        f"part writer on {WRITER_TABLE} of G=1 ({writer['rows']} rows, all-string columns), CPU time, best of 3:",
        f"  table_writer.write_batch   {writer['writer_rows_per_s']:>12,.0f} rows/s {writer['writer_bytes']:>12,} bytes"
        f"  (target >= {TARGETS['writer_rows_per_s']:,} rows/s)",
        f"  write_csv + zlib level 6   {writer['zlib6_rows_per_s']:>12,.0f} rows/s {writer['zlib6_bytes']:>12,} bytes",
        f"  writer bytes / zlib-6 bytes {bytes_ratio:.3f} (target <= {TARGETS['writer_bytes']:.2f})",
    ]
    figure("writer_rows_per_s", WRITER_TABLE, round(writer["writer_rows_per_s"]), "rows/s", 1, False)
    figure("zlib6_rows_per_s", WRITER_TABLE, round(writer["zlib6_rows_per_s"]), "rows/s", 1, False)
    figure("writer_bytes", WRITER_TABLE, writer["writer_bytes"], "bytes", 1, False)
    figure("zlib6_bytes", WRITER_TABLE, writer["zlib6_bytes"], "bytes", 1, False)
    figure("writer_bytes_ratio", WRITER_TABLE, round(bytes_ratio, 4), "ratio", 1, False)
    return lines, figures


def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="index-years-") as tmp:
        work = Path(tmp)
        index_root = work / "index"
        manifest = build_index(index_root, args.scale, args.days, args.real_days)
        real = min(args.real_days, args.days)
        points = sorted({1, min(30, args.days), args.days})
        manifests = {g: IndexManifest(manifest.generations[:g]) for g in points}
        for g, m in manifests.items():  # the index as it was at G, kept beside it
            (work / f"manifest-G{g}.json").write_bytes(m.to_json())
        measured = list(measure_all(index_root, work, manifests))
        data = read_back(work / "G1-u", day_of(1), WRITER_TABLE)
        writer = writer_figures(data)
    lines, figures = report(args, measured, writer, real)
    lines.append(f"total {time.perf_counter() - started:.0f} s")
    print("\n".join(lines), flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=1) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--days", type=int, default=365, help="generations N in the index (default 365)")
    parser.add_argument("--real-days", type=int, default=30, help="generations from real syncs (default 30)")
    parser.add_argument(
        "--json", type=Path, default=RESULTS, help=f"where the figures go (default {RESULTS})"
    )
    parser.add_argument(
        "--measure", nargs=4, metavar=("ROOT", "DAY", "TABLE", "RUN_ID"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure_export(*args.measure)), flush=True)
        return 0
    run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
