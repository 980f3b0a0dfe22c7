"""Benchmark of the store's table writer: ~1M rows x 10 columns of gzip CSV into a local folder.

    .venv/bin/python bench/store_writer.py [--rows 1000000] [--repeats 3] [--max-part-mb 15] [--out DIR]
                                           [--json PATH]

Measured in one run, on the same rows, each figure the median over the repeats:
- the row path (`write_rows` of Python tuples from a cheap generator, whose own cost is measured first
  and subtracted for the "writer only" figure);
- the Arrow path (`write_batch` of one typed Arrow table holding the same values: timestamps as
  timestamp[us, UTC], timestamp[ms, UTC] and int64 epoch ms, an int64 and a bool column);
- the baseline: `pyarrow.csv.write_csv` plus zlib level 6 alone, on one thread, in batches the size
  of the writer's, of the same CSV text (the table rendered to strings beforehand, not timed).
Also the size of the writer's parts against zlib level 6 of the same CSV text, CPU seconds (all
threads), peak RSS, and a check that both paths wrote byte-identical parts. `--json PATH` writes the
figures as a list of {"name", "value", "unit", ...} objects.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from hubspot_pipeline.store import Column, LocalDestination, TableResult
from hubspot_pipeline.store.csv_format import csv_bytes, render_arrow
from hubspot_pipeline.store.parts import default_workers

COLUMNS = [
    Column("OBJECTTYPEID"),
    Column("OBJECTID", "integer"),
    Column("CREATEDAT", "timestamp"),
    Column("UPDATEDAT", "timestamp"),
    Column("INGESTEDAT", "timestamp"),
    Column("EMAIL"),
    Column("FIRSTNAME"),
    Column("LASTNAME"),
    Column("LIFECYCLESTAGE"),
    Column("ARCHIVED", "boolean"),
]
_FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Donald", "Frances", "John"]
_LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Knuth", "Allen"]
_STAGES = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"]
_START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
_INGESTED = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
_BASELINE_BATCH_ROWS = 12_000  # about the writer's 2 MB batches on these rows
MB = 1024 * 1024


def rows(n: int) -> Iterator[tuple[Any, ...]]:
    for i in range(n):
        first, last = _FIRST[i % 10], _LAST[i % 9]
        created = _START + dt.timedelta(seconds=37 * i)
        yield (
            "0-1",
            1000 + i,
            created,
            created + dt.timedelta(milliseconds=7919 * (i % 1000)),
            _INGESTED,
            f"{first.lower()}.{last.lower()}{i}@example.com",
            first,
            last,
            _STAGES[i % 6],
            i % 50 == 0,
        )


def arrow_table(n: int) -> pa.Table:
    """The values of `rows(n)`, built column by column in Arrow (no Python objects per row)."""
    i = pa.array(range(n), pa.int64())

    def pick(words: list[str]) -> pa.Array:
        return pa.array(words).take(pc.remainder(i, len(words)))

    start_ms = int(_START.timestamp() * 1000)
    created_ms = pc.add(pc.multiply(i, 37_000), start_ms)
    updated_ms = pc.add(created_ms, pc.multiply(pc.remainder(i, 1000), 7919))
    emails = pc.binary_join_element_wise(
        pc.utf8_lower(pick(_FIRST)), ".", pc.utf8_lower(pick(_LAST)), i.cast(pa.string()), "@example.com", ""
    )
    return pa.table(
        {
            "OBJECTTYPEID": pa.repeat("0-1", n),
            "OBJECTID": pc.add(i, 1000),
            "CREATEDAT": pc.multiply(created_ms, 1000).cast(pa.timestamp("us", tz="UTC")),
            "UPDATEDAT": updated_ms.cast(pa.timestamp("ms", tz="UTC")),
            "INGESTEDAT": pa.repeat(int(_INGESTED.timestamp() * 1000), n),  # int64 epoch ms
            "EMAIL": emails,
            "FIRSTNAME": pick(_FIRST),
            "LASTNAME": pick(_LAST),
            "LIFECYCLESTAGE": pick(_STAGES),
            "ARCHIVED": pc.equal(pc.remainder(i, 50), 0),
        }
    )


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of the process
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def timed(run: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of `repeats` runs, and the last run's result."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        wall0, cpu0 = time.perf_counter(), cpu_seconds()
        result = run()
        walls.append(time.perf_counter() - wall0)
        cpus.append(cpu_seconds() - cpu0)
    return statistics.median(walls), statistics.median(cpus), result


def write_table(
    dest: LocalDestination, table: str, max_part_bytes: int, fill: Callable[[Any], None]
) -> TableResult:
    with dest.table_writer(
        "2026-11-21",
        table,
        COLUMNS,
        run_id="bench000-run",
        account_id=1,
        as_of=dt.datetime(2026, 11, 22, tzinfo=dt.UTC),
        max_part_bytes=max_part_bytes,
    ) as writer:
        fill(writer)
    return writer.result


def baseline(rendered: pa.Table) -> int:
    """write_csv (as the writer calls it) + zlib level 6 on this thread, batch by batch: gzip bytes."""
    return sum(
        len(gzip.compress(csv_bytes(rendered.slice(start, _BASELINE_BATCH_ROWS)), compresslevel=6, mtime=0))
        for start in range(0, rendered.num_rows, _BASELINE_BATCH_ROWS)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-part-mb", type=float, default=15)
    parser.add_argument(
        "--out", type=Path, default=None, help="folder to write into (default: a temp folder)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args()
    n, repeats, max_part_bytes = args.rows, args.repeats, int(args.max_part_mb * MB)

    load_before = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    generate_s, _, _ = timed(lambda: sum(1 for _ in rows(n)), repeats)
    out = args.out or Path(tempfile.mkdtemp(prefix="store-bench-"))
    dest = LocalDestination(out)

    row_s, row_cpu, by_rows = timed(
        lambda: write_table(dest, "ROWS", max_part_bytes, lambda w: w.write_rows(rows(n))), repeats
    )
    rss_rows = peak_rss_mb()
    table = arrow_table(n)
    arrow_s, arrow_cpu, by_arrow = timed(
        lambda: write_table(dest, "ARROW", max_part_bytes, lambda w: w.write_batch(table)), repeats
    )
    rss_arrow = peak_rss_mb()
    rendered = render_arrow(table, COLUMNS)
    base_s, base_cpu, base_bytes = timed(lambda: baseline(rendered), repeats)
    load_after = os.getloadavg()[0]

    texts = [gzip.decompress(dest.get_bytes(p.key) or b"") for p in by_rows.parts]
    text_bytes = sum(map(len, texts))
    zlib6_bytes = sum(len(gzip.compress(text, compresslevel=6, mtime=0)) for text in texts)
    identical = [p.sha256 for p in by_rows.parts] == [p.sha256 for p in by_arrow.parts]
    if not identical or by_rows.rows != n:
        raise SystemExit("the row and Arrow paths wrote different parts")
    writer_s = max(row_s - generate_s, 1e-9)

    figures: list[dict[str, Any]] = [
        {"name": "rows_path_rows_per_s", "value": round(n / row_s), "unit": "rows/s", "note": "end to end"},
        {"name": "rows_path_writer_rows_per_s", "value": round(n / writer_s), "unit": "rows/s"},
        {"name": "rows_path_cpu_s", "value": round(row_cpu, 2), "unit": "s"},
        {"name": "arrow_path_rows_per_s", "value": round(n / arrow_s), "unit": "rows/s"},
        {"name": "arrow_path_cpu_s", "value": round(arrow_cpu, 2), "unit": "s"},
        {"name": "baseline_write_csv_zlib6_rows_per_s", "value": round(n / base_s), "unit": "rows/s"},
        {"name": "baseline_write_csv_zlib6_bytes", "value": base_bytes, "unit": "bytes"},
        {"name": "baseline_write_csv_zlib6_cpu_s", "value": round(base_cpu, 2), "unit": "s"},
        {"name": "parts_bytes", "value": by_rows.bytes, "unit": "bytes", "parts": len(by_rows.parts)},
        {"name": "parts_size_vs_zlib6", "value": round(by_rows.bytes / zlib6_bytes, 4), "unit": "ratio"},
        {"name": "csv_text_bytes", "value": text_bytes, "unit": "bytes"},
        {"name": "generate_rows_s", "value": round(generate_s, 2), "unit": "s"},
        {"name": "peak_rss_rows_path_mb", "value": round(rss_rows), "unit": "MiB"},
        {"name": "peak_rss_arrow_path_mb", "value": round(rss_arrow), "unit": "MiB", "note": "+ the table"},
        {
            "name": "load_average_1min",
            "value": [load_before, load_after],
            "unit": "runnable",
            "note": "before, after",
        },
    ]
    for figure in figures:
        figure |= {"rows": n, "repeats": repeats, "workers": default_workers()}

    print(
        f"rows                  {n:,} x {len(COLUMNS)} columns, {default_workers()} workers, medians of {repeats}"
    )
    print(
        f"parts                 {len(by_rows.parts)}, {by_rows.bytes / MB:,.1f} MiB gzip of {text_bytes / MB:,.1f} MiB CSV"
    )
    print(
        f"size vs zlib-6        {by_rows.bytes / zlib6_bytes:.3f}x ({zlib6_bytes / MB:,.1f} MiB at zlib level 6)"
    )
    print(
        f"write_rows            {n / row_s:>9,.0f} rows/s end to end, {n / writer_s:,.0f} writer only "
        f"(generating rows {generate_s:.2f} s of {row_s:.2f} s), CPU {row_cpu:.2f} s"
    )
    print(f"write_batch (Arrow)   {n / arrow_s:>9,.0f} rows/s ({arrow_s:.2f} s), CPU {arrow_cpu:.2f} s")
    print(
        f"write_csv + zlib-6    {n / base_s:>9,.0f} rows/s ({base_s:.2f} s) on one thread, "
        f"{base_bytes / MB:,.1f} MiB, CPU {base_cpu:.2f} s"
    )
    print("parts of both paths   byte-identical")
    print(f"load average (1 min)  {load_before:.2f} before, {load_after:.2f} after, on {os.cpu_count()} CPUs")
    print(
        f"peak RSS              {rss_rows:,.0f} MiB after write_rows, {rss_arrow:,.0f} MiB after write_batch"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if args.out is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
