"""Request shapes per second the sandbox serves (limits off, one keep-alive client), medians over repeats.

The server runs in its own process (the CLI), as it would for a pipeline run, so client and
server do not share one interpreter lock. The client is one keep-alive `requests.Session` and
decodes every answer, as a pipeline would. Each repeat walks the contacts anew from the first
id, so the first repeat meets cold caches; the median is over every repeat. Shapes:

    list50  GET  /crm/v3/objects/contacts?limit=100&properties=<50 names>
    ids     GET  /crm/v3/objects/contacts?limit=100&properties=hs_object_id
    batch   POST /crm/v3/objects/contacts/batch/read, 100 ids, every property in properties and history
    assoc   POST /crm/v4/associations/contacts/companies/batch/read, 1,000 ids
    search  POST /crm/v3/objects/contacts/search, hs_lastmodifieddate >= 30 days ago, sorted, 200 a page

    .venv/bin/python bench/sandbox_pages.py [--scale small] [--wide] [--repeats 5] [--shapes list50,batch]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from hubspot_pipeline.sandbox.__main__ import READY_PREFIX
from hubspot_pipeline.sandbox.config import DEFAULT_START_DATE
from hubspot_pipeline.sandbox.model import Account

TOKEN = "pat-bench"
DAY_MS = 86_400_000


def start_server(scale: str, wide: bool) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "hubspot_pipeline.sandbox", "serve", "--port", "0", "--scale", scale]
    command += ["--token", TOKEN, *(["--wide"] if wide else [])]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith(READY_PREFIX):
        process.kill()
        raise RuntimeError(f"sandbox did not start: {line!r}")
    return process, line[len(READY_PREFIX) :].strip()


@dataclass(frozen=True)
class Shape:
    """One request shape: `walk` yields one repeat's requests, each returning how many records it carried."""

    name: str
    unit: str  # what `records` counts: records, ids
    walk: Callable[[], Iterator[int]]


def shapes(session: requests.Session, base_url: str, account: Account, type_name: str) -> list[Shape]:
    type_id = account.resolve_type(type_name).type_id  # type: ignore[union-attr]
    url = f"{base_url}/crm/v3/objects/{type_name}"
    every = list(account.registry(type_id).live)
    first50 = ",".join(sorted(every)[:50])
    live = [str(i) for i in account.record_ids(type_id, archived=False, after=None, limit=10**9)]

    def listing(properties: str) -> Callable[[], Iterator[int]]:
        def walk() -> Iterator[int]:
            after = ""
            while True:
                body = _ok(
                    session.get(url, params={"limit": "100", "properties": properties, "after": after})
                )
                yield len(body["results"])
                after = body.get("paging", {}).get("next", {}).get("after")
                if not after:
                    return

        return walk

    def batches(path: str, size: int, extra: dict[str, Any]) -> Callable[[], Iterator[int]]:
        def walk() -> Iterator[int]:
            for start in range(0, len(live), size):
                inputs = [{"id": i} for i in live[start : start + size]]
                _ok(session.post(f"{base_url}{path}", json={"inputs": inputs, **extra}))
                yield len(inputs)

        return walk

    def search() -> Iterator[int]:
        since = str(account.now_ms - 30 * DAY_MS)
        query: dict[str, Any] = {
            "filterGroups": [
                {"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": since}]}
            ],
            "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            "properties": ["hs_object_id", "hs_lastmodifieddate"],
            "limit": 200,
        }
        after: str | None = "0"
        while after is not None:
            body = _ok(session.post(f"{url}/search", json={**query, "after": after}))
            yield len(body["results"])
            after = body.get("paging", {}).get("next", {}).get("after")

    history = {"properties": every, "propertiesWithHistory": every}
    return [
        Shape("list50", "records", listing(first50)),
        Shape("ids", "records", listing("hs_object_id")),
        Shape("batch", "records", batches(f"/crm/v3/objects/{type_name}/batch/read", 100, history)),
        Shape("assoc", "ids", batches(f"/crm/v4/associations/{type_name}/companies/batch/read", 1000, {})),
        Shape("search", "records", search),
    ]


def _ok(response: requests.Response) -> dict[str, Any]:
    response.raise_for_status()
    return response.json()


def measure(shape: Shape, repeats: int) -> str:
    """Medians over `repeats` walks: calls/s, ms per call, and records (or ids) per second."""
    rates, per_call, per_record = [], [], []
    calls = records = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        counts = list(shape.walk())
        elapsed = time.perf_counter() - t0
        calls, records = len(counts), sum(counts)
        rates.append(calls / elapsed)
        per_call.append(1000 * elapsed / calls)
        per_record.append(records / elapsed)
    return (
        f"{shape.name:7s} {statistics.median(rates):7.1f} calls/s  {statistics.median(per_call):7.1f} ms/call  "
        f"{statistics.median(per_record):8.0f} {shape.unit}/s  (first repeat {rates[0]:.1f} calls/s; "
        f"{calls} calls, {records} {shape.unit} a repeat)"
    )


def model_page_ms(scale: str, wide: bool, names: list[str], pages: int = 20) -> float:
    """The model's own cost of one page (100 records, `names`), measured in this process."""
    account = Account(1, scale, DEFAULT_START_DATE, wide=wide)
    ids = account.record_ids("0-1", archived=False, after=None, limit=100 * pages)
    t0 = time.perf_counter()
    for record_id in ids:
        account.record("0-1", record_id, names)
    return 1000 * (time.perf_counter() - t0) / (len(ids) / 100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--wide", action="store_true", help="a 900+ property type (deals) exists")
    parser.add_argument("--type", default="contacts", help="object type walked (companies must associate)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--shapes", default="list50,ids,batch,assoc,search")
    args = parser.parse_args()

    started = time.perf_counter()
    process, base_url = start_server(args.scale, args.wide)
    print(f"server ready in {time.perf_counter() - started:.1f} s at scale {args.scale}, type {args.type}")
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        account = Account(1, args.scale, DEFAULT_START_DATE, wide=args.wide)  # the server's twin: same ids
        wanted = args.shapes.split(",")
        for shape in shapes(session, base_url, account, args.type):
            if shape.name in wanted:
                print(measure(shape, args.repeats), flush=True)
        names = sorted(p["name"] for p in account.property_definitions("0-1"))[:50]
        print(
            f"model alone: {model_page_ms(args.scale, args.wide, names):.1f} ms a page of 100 contacts x 50"
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
