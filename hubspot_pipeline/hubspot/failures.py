"""Turn a non-retryable HubSpot response into a typed error with a message that says what to do.

The messages quote HubSpot's category, message and correlation id (hubspot-api.md §8, §10.3) but
never the token: every message passes through the caller's `redact` before the error is built.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from hubspot_pipeline.hubspot.errors import (
    HubSpotAuthError,
    HubSpotDailyLimitError,
    HubSpotError,
    HubSpotRequestError,
    HubSpotScopeError,
)
from hubspot_pipeline.hubspot.retry import rate_limit_policy


def _field(body: Any, key: str) -> str | None:
    value = body.get(key) if isinstance(body, Mapping) else None
    return str(value) if value is not None else None


def missing_scopes(body: Any) -> list[str]:
    """Scopes named in a 403 MISSING_SCOPES body (`errors[].context.requiredScopes`, api §10.3; newer
    answers name `requiredGranularScopes`, as seen in PostHog/posthog#53339)."""
    scopes: list[str] = []
    if not isinstance(body, Mapping):
        return scopes
    contexts = [body.get("context")] + [
        e.get("context") for e in body.get("errors") or [] if isinstance(e, Mapping)
    ]
    for context in contexts:
        if isinstance(context, Mapping):
            for key in ("requiredScopes", "requiredGranularScopes", "missingScopes"):
                scopes += [str(s) for s in context.get(key) or [] if str(s) not in scopes]
    return scopes


def next_midnight(now: dt.datetime, timezone: str) -> dt.datetime:
    """The daily quota resets at midnight in the account's time zone (api §9.1)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    tomorrow = local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(tomorrow, dt.time(0), tzinfo=zone)


def server_time(headers: Mapping[str, str]) -> dt.datetime:
    """The server's `Date` header (its idea of today decides the reset), else this machine's clock."""
    try:
        when = email.utils.parsedate_to_datetime(headers["Date"])
        return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    except (KeyError, TypeError, ValueError):
        return dt.datetime.now(dt.UTC)


def error_for_response(
    status: int,
    headers: Mapping[str, str],
    body: Any,
    *,
    endpoint: str,
    account_timezone: str = "UTC",
    redact: Callable[[str], str] = str,
) -> HubSpotError:
    """The error for a response the retry policy gave up on; `redact` masks secrets in the message."""
    category = _field(body, "category") or _field(body, "errorType")
    correlation_id = _field(body, "correlationId") or headers.get("X-HubSpot-Correlation-Id")
    message = _field(body, "message") or f"HTTP {status} without a JSON error body"
    common: dict[str, Any] = {
        "status": status,
        "category": category,
        "correlation_id": correlation_id,
        "endpoint": endpoint,
    }
    tail = f"[{endpoint}, HTTP {status}, category {category}, correlationId {correlation_id}]"

    if status == 401:
        if category == "EXPIRED_AUTHENTICATION":
            text = (
                "the access token expired (HubSpot says: "
                f"{message}); refresh it and set HUBSPOT_ACCESS_TOKEN to the new token"
            )
        else:
            text = "the access token was rejected: invalid or revoked; check HUBSPOT_ACCESS_TOKEN"
        return HubSpotAuthError(redact(f"{text} {tail}"), **common)

    if status == 403 and category == "MISSING_SCOPES":
        scopes = missing_scopes(body)
        named = ", ".join(scopes) if scopes else "(HubSpot did not name them)"
        return HubSpotScopeError(
            redact(
                f"the access token lacks the scope(s) {named}; add them to the private app's scopes in "
                f"HubSpot and use the updated token {tail}"
            ),
            missing_scopes=scopes,
            **common,
        )

    if status == 429 and rate_limit_policy(body) == "DAILY":
        resets_at = next_midnight(server_time(headers), account_timezone)
        common["category"] = "DAILY"
        return HubSpotDailyLimitError(
            redact(
                f"the account's daily API quota is exhausted; it resets at {resets_at.isoformat()} "
                f"(midnight {account_timezone}); resume the sync after that {tail}"
            ),
            resets_at=resets_at,
            **common,
        )

    if status == 414:
        message = (
            "the request URL is too long: put long property lists in a POST body (batch read) or split them"
        )
    return HubSpotRequestError(redact(f"HubSpot rejected the request: {message} {tail}"), body=body, **common)
