"""Construction time and memory of the sandbox account model at `large` scale.

Run: .venv/bin/python bench/sandbox_model_large.py [--scale large] [--advance-days 1]

Prints seconds to construct, RSS after construction, after reading records, after an
incremental search, and after advancing a day (bulk update of 20,000 contacts).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import time

from hubspot_sandbox.model import Account


def rss_mb() -> float:
    """Current resident set size in MiB (Linux /proc)."""
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="large")
    parser.add_argument("--advance-days", type=int, default=1)
    args = parser.parse_args()

    print(f"rss before construction: {rss_mb():.0f} MiB (python + numpy)")
    t0 = time.perf_counter()
    acct = Account(seed=1, scale=args.scale, start_date=dt.date(2026, 11, 1))
    built = time.perf_counter() - t0
    records = sum(len(t) for t in acct.tables.values())
    print(f"construct {args.scale}: {built:.2f} s, {records:,} records, rss {rss_mb():.0f} MiB")

    names = [p["name"] for p in acct.property_definitions("contacts")][:50]
    t0 = time.perf_counter()
    ids = acct.record_ids("contacts", archived=False, after=500_000, limit=1000)
    for start in range(0, len(ids), 100):  # pages of 100, as the API serves them
        acct.records("contacts", ids[start : start + 100], names, names[:5])
    took = time.perf_counter() - t0
    print(
        f"read {len(ids)} contacts x {len(names)} properties (5 with history): {took:.2f} s, rss {rss_mb():.0f} MiB"
    )

    t0 = time.perf_counter()
    week = [
        {
            "filters": [
                {
                    "propertyName": "lastmodifieddate",
                    "operator": "GTE",
                    "value": str(acct.now_ms - 7 * 86_400_000),
                }
            ]
        }
    ]
    total, _ = acct.search(
        "contacts", week, [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}], None, 0, 200
    )
    print(f"search lastmodifieddate >= now-7d sorted: {total:,} hits in {time.perf_counter() - t0:.3f} s")

    for _ in range(args.advance_days):
        t0 = time.perf_counter()
        acct.advance(days=1, bulk_update=20_000)
        print(f"advance 1 day (bulk_update=20000): {time.perf_counter() - t0:.2f} s, rss {rss_mb():.0f} MiB")
    print(f"peak rss: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
