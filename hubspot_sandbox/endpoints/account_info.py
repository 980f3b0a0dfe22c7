"""Account details and daily API usage (§7.6)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hubspot_sandbox.context import RequestContext
from hubspot_sandbox.responses import iso_ms


def details(ctx: RequestContext) -> dict[str, Any]:
    return ctx.account.account_details()


def daily_usage(ctx: RequestContext) -> dict[str, Any]:
    """Usage against the daily allowance; it resets at the sandbox's next midnight (UTC)."""
    now = ctx.account.now
    limiter = ctx.sandbox.limiter
    usage = {
        "name": "private-apps-api-calls-daily",
        "usageLimit": limiter.settings.daily,
        "currentUsage": limiter.daily_used,
        "collectedAt": iso_ms(now),
        "resetsAt": iso_ms(now + dt.timedelta(days=1)),
        "fetchStatus": "SUCCESS",
    }
    return {"results": [usage]}
