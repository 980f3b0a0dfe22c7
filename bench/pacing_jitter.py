"""429s seen by a paced client behind a loopback proxy that delays every request by 0-20 ms.

The pacer admits at most the budget per 10 s of *send* time; jitter on the way to the server can
bunch calls so that HubSpot's own 10 s window holds one too many. The sandbox enforces HubSpot's
burst limit (100 per rolling 10 s); the client, at the same budget, sends `--calls` GETs through a
proxy on 127.0.0.1 that sleeps a random 0-20 ms before passing each request on. Prints the calls,
the 429s the server answered and the wall time; `--margin 0` shows what the margin is for.

    .venv/bin/python bench/pacing_jitter.py [--calls 350] [--margin 0.05] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import socket
import threading
import time
from datetime import date

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_sandbox import Sandbox, SandboxConfig

TOKEN = "pat-bench-jitter"
BURST = 100


class JitterProxy:
    """A TCP relay on 127.0.0.1: each chunk from the client waits 0-`max_ms` ms before it is sent on."""

    def __init__(self, target: tuple[str, int], max_ms: float, seed: int = 1) -> None:
        self._target, self._max = target, max_ms / 1000
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _delay(self) -> float:
        with self._lock:
            return self._rng.uniform(0, self._max)

    def _accept(self) -> None:
        self._server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            upstream = socket.create_connection(self._target)
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, jitter: bool) -> None:
        try:
            while data := src.recv(65536):
                if jitter:
                    time.sleep(self._delay())
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._stop.set()
        self._server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=350)
    parser.add_argument("--margin", type=float, help="the pacer's margin (default: the client's, 0.05)")
    parser.add_argument("--json", help="write the figures here as JSON")
    args = parser.parse_args()
    config = SandboxConfig(seed=1, scale="tiny", token=TOKEN, start_date=date(2026, 3, 1), rate_limits=True)
    with Sandbox(config) as sb:
        sb.set_rate_limits(enabled=True, burst=BURST)
        host, port = sb.base_url.removeprefix("http://").split(":")
        proxy = JitterProxy((host, int(port)), max_ms=20)
        try:
            client = HubSpotClient(f"http://127.0.0.1:{proxy.port}", TOKEN, rate_limit_per_10s=BURST)
            if args.margin is not None:
                client.pacer.margin = args.margin
            started = time.perf_counter()
            for _ in range(args.calls):
                client.get("/crm/v3/objects/contacts", {"limit": 1})
            seconds = time.perf_counter() - started
        finally:
            proxy.close()
        rejected = sum(n for reason, n in client.retries.items() if reason.startswith("429"))
    figures = {
        "calls": args.calls,
        "http_429": rejected,
        "seconds": round(seconds, 1),
        "margin": client.pacer.margin,
        "budget_per_10s": BURST,
        "jitter_ms": "0-20",
    }
    print(
        f"{args.calls} calls through a 0-20 ms jitter proxy at a budget of {BURST}/10 s: "
        f"pacer margin {client.pacer.margin:.0%}: {rejected} answered 429, {figures['seconds']} s"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump([{"name": k, "value": v} for k, v in figures.items()], out, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
