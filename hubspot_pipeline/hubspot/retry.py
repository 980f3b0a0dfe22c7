"""Which failures are retried, and how long to wait before the next attempt.

`RetryPolicy.for_status` answers for an HTTP status (None: not retryable, the client raises a typed
error at once); `RetryPolicy.for_fault` answers for a connection reset, timeout or truncated body.
The waits follow hubspot-api.md §8.2 and §9.4:

| failure                                      | wait                                                  |
|----------------------------------------------|-------------------------------------------------------|
| any retryable status with `Retry-After`      | that many seconds (or until that HTTP date)           |
| 429 TEN_SECONDLY_ROLLING (or unknown policy) | the rate-limit interval (header, default 10 s)        |
| 429 search "secondly limit"                  | 1 s x attempt                                         |
| 423 locked                                   | backoff, at least 2 s                                 |
| 477 migration, 5xx, 521-524, faults          | capped exponential backoff with jitter                |
| 429 DAILY                                    | not retried (`HubSpotDailyLimitError`)                |

Backoff for attempt n (1-based) is `min(cap, base * 2**(n-1))`, of which the upper half is jittered
by `rng` (a `random.Random`, injectable so tests can pin it). The cap of 10 s keeps the 8 retries
of one call within 23-46 s: long enough to ride out a reset or a 5xx burst, short enough that a dead
API fails the run in under two minutes (the client's circuit cuts the other steps short).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RETRYABLE_5XX = frozenset({500, 502, 503, 504, 521, 522, 523, 524})


@dataclass(frozen=True)
class Retry:
    """A decision to try again: why (a short key for counters and logs) and after how long."""

    reason: str
    wait: float
    # A rate-limit wait concerns every worker sharing the budget, not just this request.
    rate_limited: bool = False
    status: int | None = None  # the HTTP status that caused it; None for transport faults
    detail: str = ""  # token-free description for the log


def rate_limit_policy(body: Any) -> str | None:
    """`policyName` of a 429 body, inferring it from the message when HubSpot leaves it out."""
    if not isinstance(body, Mapping):
        return None
    policy = body.get("policyName")
    if isinstance(policy, str) and policy:
        return policy.upper()
    message = str(body.get("message", "")).lower()
    if "daily limit" in message:
        return "DAILY"
    if "ten_secondly" in message:
        return "TEN_SECONDLY_ROLLING"
    if "secondly limit" in message:
        return "SECONDLY"
    return None


def retry_after_seconds(headers: Mapping[str, str], now: dt.datetime | None = None) -> float | None:
    """`Retry-After` as seconds; HTTP allows a delay in seconds or an HTTP date."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


class RetryPolicy:
    def __init__(
        self,
        max_retries: int = 8,
        *,
        base_delay: float = 0.5,
        max_delay: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.rng = rng if rng is not None else random.Random()

    def backoff(self, attempt: int) -> float:
        """Capped exponential delay with 'equal jitter': never below half the step, never above it."""
        step = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return step / 2 + self.rng.uniform(0, step / 2)

    def for_status(
        self, status: int, headers: Mapping[str, str], body: Any, attempt: int, *, search: bool = False
    ) -> Retry | None:
        retry_after = retry_after_seconds(headers)
        if status == 429:
            policy = rate_limit_policy(body)
            if policy == "DAILY":
                return None
            if retry_after is not None:
                return Retry("429", retry_after, rate_limited=True)
            if policy == "SECONDLY" or (search and policy != "TEN_SECONDLY_ROLLING"):
                return Retry("429_search", 1.0 * attempt, rate_limited=True)
            interval_ms = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
            try:
                interval = int(interval_ms) / 1000
            except ValueError:
                interval = 10.0
            return Retry("429_ten_secondly", interval, rate_limited=True)
        if status == 423:
            return Retry("423", max(2.0, retry_after or self.backoff(attempt)))
        if status == 477 or status in RETRYABLE_5XX:
            return Retry(str(status), retry_after if retry_after is not None else self.backoff(attempt))
        return None

    def for_fault(self, reason: str, attempt: int) -> Retry:
        """Connection reset, timeout or a truncated/invalid body: transient, back off and resend."""
        return Retry(reason, self.backoff(attempt))
