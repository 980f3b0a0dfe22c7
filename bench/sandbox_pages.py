"""Pages per second the sandbox serves: 100-contact pages with 50 properties, limits off.

The server runs in its own process (the CLI), as it would for a pipeline run, so client and
server do not share one interpreter lock. The client is one keep-alive `requests.Session`.

    .venv/bin/python bench/sandbox_pages.py [--scale small] [--pages 400]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import requests

from hubspot_pipeline.sandbox.__main__ import READY_PREFIX
from hubspot_pipeline.sandbox.config import DEFAULT_START_DATE
from hubspot_pipeline.sandbox.model import Account

TOKEN = "pat-bench"


def start_server(scale: str) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "hubspot_pipeline.sandbox", "serve", "--port", "0", "--scale", scale]
    process = subprocess.Popen([*command, "--token", TOKEN], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith(READY_PREFIX):
        process.kill()
        raise RuntimeError(f"sandbox did not start: {line!r}")
    return process, line[len(READY_PREFIX) :].strip()


def model_page_ms(scale: str, names: list[str], pages: int = 20) -> float:
    """The model's own cost of one page (100 records, `names`), measured in this process."""
    account = Account(1, scale, DEFAULT_START_DATE)
    ids = account.record_ids("0-1", archived=False, after=None, limit=100 * pages)
    t0 = time.perf_counter()
    for record_id in ids:
        account.record("0-1", record_id, names)
    return 1000 * (time.perf_counter() - t0) / pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--pages", type=int, default=400)
    args = parser.parse_args()

    started = time.perf_counter()
    process, base_url = start_server(args.scale)
    print(f"server ready in {time.perf_counter() - started:.1f} s at scale {args.scale}")
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        names = sorted(
            p["name"] for p in session.get(f"{base_url}/crm/v3/properties/contacts").json()["results"]
        )
        params = {"limit": "100", "properties": ",".join(names[:50])}
        after: str | None = None
        records = pages = 0
        t0 = time.perf_counter()
        while pages < args.pages:
            response = session.get(
                f"{base_url}/crm/v3/objects/contacts", params={**params, "after": after or ""}
            )
            response.raise_for_status()
            body = response.json()
            records += len(body["results"])
            pages += 1
            after = body.get("paging", {}).get("next", {}).get("after")  # wrap around at the last page
        elapsed = time.perf_counter() - t0
        print(
            f"{pages} pages, {records} records in {elapsed:.2f} s: {pages / elapsed:.1f} pages/s, "
            f"{records / elapsed:.0f} records/s"
        )
        model_ms = model_page_ms(args.scale, names[:50])
        http_ms = 1000 * elapsed / pages
        print(
            f"per page: {http_ms:.1f} ms over HTTP, of which {model_ms:.1f} ms generating the records in the "
            f"model and {http_ms - model_ms:.1f} ms server (routing, JSON, socket) and client"
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
