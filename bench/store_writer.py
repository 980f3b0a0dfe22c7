"""Benchmark of the store's table writer: ~1M rows x 10 columns of gzip CSV into a local folder.

    .venv/bin/python bench/store_writer.py [--rows 1000000] [--repeats 3] [--max-part-mb 15] [--out DIR]

Prints rows/s and MB/s (gzip bytes written, CSV text produced) as medians over the repeats, and peak
RSS. Rows come from a cheap generator whose own cost is measured first and reported, so the writer's
share is visible.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hubspot_pipeline.store import Column, LocalDestination, TableResult

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


def rows(n: int) -> Iterator[tuple[Any, ...]]:
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    ingested = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
    for i in range(n):
        first, last = _FIRST[i % 10], _LAST[i % 9]
        created = start + dt.timedelta(seconds=37 * i)
        yield (
            "0-1",
            1000 + i,
            created,
            created + dt.timedelta(milliseconds=7919 * (i % 1000)),
            ingested,
            f"{first.lower()}.{last.lower()}{i}@example.com",
            first,
            last,
            _STAGES[i % 6],
            i % 50 == 0,
        )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def write_once(dest: LocalDestination, n: int, max_part_bytes: int) -> tuple[float, TableResult]:
    t0 = time.perf_counter()
    with dest.table_writer(
        "2026-11-21",
        "OBJECTS_CONTACTS",
        COLUMNS,
        run_id="bench000-run",
        account_id=1,
        as_of=dt.datetime(2026, 11, 22, tzinfo=dt.UTC),
        max_part_bytes=max_part_bytes,
    ) as writer:
        writer.write_rows(rows(n))
    return time.perf_counter() - t0, writer.result


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
    args = parser.parse_args()

    t0 = time.perf_counter()
    for _ in rows(args.rows):
        pass
    generate_s = time.perf_counter() - t0
    rss_before = peak_rss_mb()

    out = args.out or Path(tempfile.mkdtemp(prefix="store-bench-"))
    dest = LocalDestination(out)
    runs = [write_once(dest, args.rows, int(args.max_part_mb * 1024 * 1024)) for _ in range(args.repeats)]
    rss_after = peak_rss_mb()

    total_s = statistics.median(seconds for seconds, _ in runs)
    result = runs[-1][1]
    text_bytes = sum(len(gzip.decompress(dest.get_bytes(p.key) or b"")) for p in result.parts)
    write_s = max(total_s - generate_s, 1e-9)
    mb = 1024 * 1024
    print(f"rows                {result.rows:,} x {len(COLUMNS)} columns in {len(result.parts)} parts")
    print(f"gzip bytes          {result.bytes / mb:,.1f} MiB (CSV text {text_bytes / mb:,.1f} MiB)")
    print(
        f"wall time (median)  {total_s:.2f} s of {args.repeats} runs (of which generating rows {generate_s:.2f} s)"
    )
    print(
        f"rows/s              {result.rows / total_s:,.0f} end to end, {result.rows / write_s:,.0f} writer only"
    )
    print(
        f"MB/s (CSV text)     {text_bytes / mb / total_s:,.1f} end to end, {text_bytes / mb / write_s:,.1f} writer only"
    )
    print(f"MB/s (gzip written) {result.bytes / mb / total_s:,.1f} end to end")
    print(
        f"peak RSS            {rss_after:,.0f} MiB (after imports and row generation: {rss_before:,.0f} MiB)"
    )
    if args.out is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
