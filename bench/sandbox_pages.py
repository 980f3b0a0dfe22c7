"""Request shapes per second the sandbox serves (limits off, one keep-alive client), medians over repeats.

The server runs in its own process (the CLI), as it would for a pipeline run, so client and
server do not share one interpreter lock. The client is one keep-alive `requests.Session`; it
decodes the pages it walks by cursor and only reads the batch answers (decoding a 4 MB batch
answer costs the client more than 50 ms, which is not the sandbox's). Each repeat walks the
contacts anew from the first id: the first repeat meets a cold record cache (the "first repeat"
figures), later ones find what the cache kept (`model/account.py` `RECORD_CACHE_ITEMS`: all 2,000
`small` contacts with 50 values, ~800 with every history; `--records 500` shows a warm batch).
Figures are medians over the repeats, with the server process's CPU time per call (steadier than
wall time when other work shares the machine). Shapes:

    list50  GET  /crm/v3/objects/contacts?limit=100&properties=<50 names>
    ids     GET  /crm/v3/objects/contacts?limit=100&properties=hs_object_id
    batch   POST /crm/v3/objects/contacts/batch/read, 100 ids, every property in properties and history
    assoc   POST /crm/v4/associations/contacts/companies/batch/read, 1,000 ids (walked 5 times a repeat)
    search  POST /crm/v3/objects/contacts/search, hs_lastmodifieddate >= 30 days ago, sorted, 200 a page
            (walked 5 times a repeat)

    .venv/bin/python bench/sandbox_pages.py [--scale small] [--wide --type deals] [--repeats 5]
        [--records N] [--shapes list50,ids,batch,assoc,search]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from hubspot_sandbox.__main__ import READY_PREFIX
from hubspot_sandbox.config import DEFAULT_START_DATE
from hubspot_sandbox.model import Account

TOKEN = "pat-bench"
DAY_MS = 86_400_000
ROUNDS = 5  # shapes with few calls a walk (assoc, search) walk this many times a repeat, to be timed


def start_server(scale: str, wide: bool) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "hubspot_sandbox", "serve", "--port", "0", "--scale", scale]
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


def shapes(
    session: requests.Session, base_url: str, account: Account, type_name: str, records: int
) -> list[Shape]:
    """The request shapes over the first `records` live records of `type_name`."""
    type_id = account.resolve_type(type_name).type_id  # type: ignore[union-attr]
    url = f"{base_url}/crm/v3/objects/{type_name}"
    every = list(account.registry(type_id).live)
    first50 = ",".join(sorted(every)[:50])
    live = [str(i) for i in account.record_ids(type_id, archived=False, after=None, limit=records)]

    def listing(properties: str) -> Callable[[], Iterator[int]]:
        def walk() -> Iterator[int]:
            after, seen = "", 0
            while after is not None and seen < len(live):
                params = {"limit": "100", "properties": properties, "after": after}
                body = _ok(session.get(url, params=params))
                seen += len(body["results"])
                yield len(body["results"])
                after = body.get("paging", {}).get("next", {}).get("after")

        return walk

    def batches(path: str, size: int, extra: dict[str, Any], rounds: int = 1) -> Callable[[], Iterator[int]]:
        def walk() -> Iterator[int]:
            for _ in range(rounds):
                for start in range(0, len(live), size):
                    inputs = [{"id": i} for i in live[start : start + size]]
                    response = session.post(f"{base_url}{path}", json={"inputs": inputs, **extra})
                    response.raise_for_status()  # read, not decoded: the figure is the sandbox's
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
        for _ in range(ROUNDS):
            after: str | None = "0"
            while after is not None:
                body = _ok(session.post(f"{url}/search", json={**query, "after": after}))
                yield len(body["results"])
                after = body.get("paging", {}).get("next", {}).get("after")

    history = {"properties": every, "propertiesWithHistory": every}
    assoc_path = f"/crm/v4/associations/{type_name}/companies/batch/read"
    return [
        Shape("list50", "records", listing(first50)),
        Shape("ids", "records", listing("hs_object_id")),
        Shape("batch", "records", batches(f"/crm/v3/objects/{type_name}/batch/read", 100, history)),
        Shape("assoc", "ids", batches(assoc_path, 1000, {}, ROUNDS)),
        Shape("search", "records", search),
    ]


def _ok(response: requests.Response) -> dict[str, Any]:
    response.raise_for_status()
    return response.json()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far (Linux /proc): steadier than wall time on a
    machine other work shares, and what the sandbox itself costs per call."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(shape: Shape, repeats: int, server_pid: int) -> str:
    """Medians over `repeats` walks: calls/s, ms per call, records (or ids) per second, server CPU per call."""
    rates, per_call, per_record, cpu_per_call = [], [], [], []
    calls = records = 0
    for _ in range(repeats):
        cpu0, t0 = cpu_seconds(server_pid), time.perf_counter()
        counts = list(shape.walk())
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds(server_pid) - cpu0
        calls, records = len(counts), sum(counts)
        rates.append(calls / elapsed)
        per_call.append(1000 * elapsed / calls)
        per_record.append(records / elapsed)
        cpu_per_call.append(1000 * cpu / calls)
    return (
        f"{shape.name:7s} {statistics.median(rates):7.1f} calls/s {statistics.median(per_call):7.1f} ms/call "
        f"{statistics.median(per_record):7.0f} {shape.unit}/s  server CPU {statistics.median(cpu_per_call):6.1f} "
        f"ms/call  | first repeat {rates[0]:.1f} calls/s, CPU {cpu_per_call[0]:.1f} ms/call "
        f"| {calls} calls, {records} {shape.unit} a repeat"
    )


def model_page_ms(scale: str, wide: bool, names: list[str], pages: int = 20) -> float:
    """The model's own cost of one page (100 records, `names`), measured in this process."""
    account = Account(1, scale, DEFAULT_START_DATE, wide=wide)
    ids = account.record_ids("0-1", archived=False, after=None, limit=100 * pages)
    t0 = time.perf_counter()
    for start in range(0, len(ids), 100):
        account.records("0-1", ids[start : start + 100], names)
    return 1000 * (time.perf_counter() - t0) / (len(ids) / 100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--wide", action="store_true", help="a 900+ property type (deals) exists")
    parser.add_argument("--type", default="contacts", help="object type walked (companies must associate)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--records", type=int, default=10**9, help="walk only the first N live records")
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
        for shape in shapes(session, base_url, account, args.type, args.records):
            if shape.name in wanted:
                print(measure(shape, args.repeats, process.pid), flush=True)
        names = sorted(p["name"] for p in account.property_definitions("0-1"))[:50]
        print(
            f"model alone: {model_page_ms(args.scale, args.wide, names):.1f} ms a page of 100 contacts x 50"
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
