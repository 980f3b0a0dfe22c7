"""Sandbox control routes (not HubSpot's): drive the clock and read the call counters over HTTP.

`POST /_sandbox/advance` with `{"days": 1, "bulk_update": 0}` applies days of changes and answers
`{"now": ..., "daysAdvanced": n}`; `GET /_sandbox/calls` answers `{"calls": {...}, "total": n,
"rejected": {...}}`. Both need the bearer token; neither counts as an API call or meets limits and faults.
"""

from __future__ import annotations

from typing import Any

from hubspot_sandbox.context import RequestContext, checked_int
from hubspot_sandbox.responses import iso_ms


def advance(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.json_body(default={})
    days = checked_int("days", body.get("days", 1), minimum=1)
    bulk_update = checked_int("bulk_update", body.get("bulk_update", 0))
    ctx.sandbox.advance(days, bulk_update)
    with ctx.sandbox.lock.read():
        return {"now": iso_ms(ctx.account.now), "daysAdvanced": ctx.account.days_advanced}


def calls(ctx: RequestContext) -> dict[str, Any]:
    sb = ctx.sandbox
    counted = sb.calls
    return {
        "calls": dict(sorted(counted.items())),
        "total": sum(counted.values()),
        "rejected": dict(sorted(sb.rejected.items())),
    }
