"""CLI: `python -m hubspot_sandbox serve --port 8765 --scale small --seed 1 --token pat-sandbox`.

Prints one line, `hubspot sandbox listening on http://127.0.0.1:<port>`, once it accepts requests,
then serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading

from hubspot_sandbox.config import BURST_TIERS, SCALES, SandboxConfig
from hubspot_sandbox.model.types import DEFAULT_DEACTIVATED
from hubspot_sandbox.record_failures import RecordFailureRule
from hubspot_sandbox.service import Sandbox

READY_PREFIX = "hubspot sandbox listening on "


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hubspot_sandbox", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a sandbox account over HTTP on 127.0.0.1")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    serve.add_argument("--scale", choices=SCALES, default="small")
    serve.add_argument("--seed", type=int, default=1)
    serve.add_argument("--token", default="pat-sandbox", help="the bearer token the sandbox accepts")
    serve.add_argument("--wide", action="store_true", help="give one object type 900+ properties")
    serve.add_argument("--start-date", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD (day 0)")
    serve.add_argument("--advance-days", type=int, default=0, help="days of changes applied before serving")
    serve.add_argument(
        "--bulk-update", type=int, default=0, help="records sharing one timestamp per day advanced"
    )
    serve.add_argument(
        "--rate-limits", action="store_true", help="enforce the burst, search and daily buckets"
    )
    serve.add_argument(
        "--burst", type=int, default=100, help=f"requests per 10 s (HubSpot tiers: {BURST_TIERS})"
    )
    serve.add_argument("--daily", type=int, default=250_000)
    serve.add_argument("--retry-after", type=int, default=None, help="send Retry-After (seconds) on 429s")
    serve.add_argument(
        "--search-lag", type=float, default=0.0, help="seconds before writes become searchable"
    )
    serve.add_argument("--failure-rate", type=float, default=0.0, help="share of requests failing at random")
    serve.add_argument("--slow-seconds", type=float, default=2.0, help="delay of the 'slow' fault")
    serve.add_argument(
        "--record-failures",
        type=_record_failure_rule,
        action="append",
        default=[],
        metavar="TYPE:SHARE[:CATEGORY[:TIMES]]",
        help="batch reads fail a share of TYPE's records (207 errors); repeatable",
    )
    serve.add_argument(
        "--deactivated-types",
        type=lambda text: tuple(ref for ref in text.split(",") if ref),
        default=DEFAULT_DEACTIVATED,
        metavar="TYPE[,TYPE...]",
        help=f"activatable object types left deactivated ('' for none; default {','.join(DEFAULT_DEACTIVATED)})",
    )
    return parser


def _record_failure_rule(text: str) -> RecordFailureRule:
    parts = text.split(":")
    if not 2 <= len(parts) <= 4:
        raise argparse.ArgumentTypeError("expected TYPE:SHARE[:CATEGORY[:TIMES]]")
    try:
        return RecordFailureRule(
            parts[0],
            share=float(parts[1]),
            category=parts[2] if len(parts) > 2 and parts[2] else "INTERNAL_ERROR",
            times=int(parts[3]) if len(parts) > 3 else None,
        )
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = SandboxConfig(
        seed=args.seed,
        scale=args.scale,
        token=args.token,
        wide=args.wide,
        rate_limits=args.rate_limits,
        burst=args.burst,
        daily=args.daily,
        retry_after=args.retry_after,
        search_lag_seconds=args.search_lag,
        failure_rate=args.failure_rate,
        slow_seconds=args.slow_seconds,
        record_failures=tuple(args.record_failures),
        deactivated_types=args.deactivated_types,
        **({"start_date": args.start_date} if args.start_date else {}),
    )
    sandbox = Sandbox(config, host=args.host, port=args.port)
    if args.advance_days:
        sandbox.advance(args.advance_days, args.bulk_update)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    with sandbox:
        print(f"{READY_PREFIX}{sandbox.base_url}", flush=True)
        while not stopped.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
