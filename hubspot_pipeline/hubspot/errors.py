"""Typed errors raised by the HubSpot client.

Every error subclasses `HubSpotError` and carries `.status` (HTTP status or None), `.category`
(HubSpot's error category, or `policyName` for rate limits), `.correlation_id` (quote it to HubSpot
support) and `.endpoint` ("METHOD /route/{template}"). Messages are built by the client with the
access token redacted, so `str(err)`, `repr(err)` and `err.args` are safe to log.

- `HubSpotAuthError`        401: token invalid, revoked or expired. Never retried.
- `HubSpotScopeError`       403 MISSING_SCOPES: `.missing_scopes` lists what the private app lacks.
- `HubSpotRequestError`     any other 4xx: a bug in the request, not a transient condition.
- `HubSpotDailyLimitError`  429 DAILY: `.resets_at` is the next midnight in the account's time zone.
- `HubSpotTransientError`   retries exhausted on 429/5xx/connection faults: `.attempts`.
- `SearchWindowExceeded`    a CRM search would have to page past HubSpot's 10,000-result cap.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


class HubSpotError(Exception):
    """Base of every error the client raises."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        category: str | None = None,
        correlation_id: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.category = category
        self.correlation_id = correlation_id
        self.endpoint = endpoint

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r}, category={self.category!r})"


class HubSpotAuthError(HubSpotError):
    """The access token was rejected (401)."""


class HubSpotScopeError(HubSpotError):
    """The token is valid but lacks scopes the endpoint needs (403 MISSING_SCOPES)."""

    def __init__(self, message: str, *, missing_scopes: list[str], **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.missing_scopes = missing_scopes


class HubSpotRequestError(HubSpotError):
    """A 4xx other than auth, scope and rate limits: retrying the same request cannot help."""

    def __init__(self, message: str, *, body: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        # The parsed error body, for callers that branch on `context` or `errors` (e.g. a search past 10k).
        self.body = body


class HubSpotDailyLimitError(HubSpotError):
    """The account's shared daily quota is used up; nothing succeeds until `resets_at`."""

    def __init__(self, message: str, *, resets_at: dt.datetime, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.resets_at = resets_at


class HubSpotTransientError(HubSpotError):
    """A retryable failure persisted through every allowed attempt."""

    def __init__(self, message: str, *, attempts: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.attempts = attempts


class SearchWindowExceeded(HubSpotError):
    """The search matches more than HubSpot lets one query page through; narrow the window by id."""

    def __init__(self, message: str, *, total: int | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.total = total
