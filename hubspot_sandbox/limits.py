"""HubSpot's three rate buckets: 10-second burst per token, search per second, and daily (§9)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from hubspot_sandbox.errors import ApiError

BURST_WINDOW_SECONDS = 10.0
SEARCH_WINDOW_SECONDS = 1.0

Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class RateLimitSettings:
    enabled: bool = False
    burst: int = 100
    daily: int = 250_000
    search_per_second: int = 5
    retry_after: int | None = None  # seconds; HubSpot does not promise the header, so it is opt-in


def _rate_error(
    message: str, policy: str, retry_after: int | None, headers: Headers, **extra: str
) -> ApiError:
    body = {"status": "error", "message": message, "errorType": "RATE_LIMIT", "correlationId": None}
    body.update(policyName=policy, **extra)
    if retry_after is not None:
        headers = [*headers, ("Retry-After", str(retry_after))]
    return ApiError(429, body, headers)


def ten_secondly_error(
    portal_id: int, retry_after: int | None, headers: Sequence[tuple[str, str]] = ()
) -> ApiError:
    group = f"publicapi:private-app-api-calls-ten-secondly:{portal_id}"
    return _rate_error(
        "You have reached your ten_secondly_rolling limit.",
        "TEN_SECONDLY_ROLLING",
        retry_after,
        list(headers),
        groupName=group,
    )


def daily_error(retry_after: int | None, headers: Sequence[tuple[str, str]] = ()) -> ApiError:
    return _rate_error(
        "You have reached your daily limit.", "DAILY", retry_after, list(headers), requestId=str(uuid.uuid4())
    )


def secondly_error(retry_after: int | None) -> ApiError:
    # HubSpot's own clients recognise the search limit by this exact message.
    return _rate_error("You have reached your secondly limit.", "SECONDLY", retry_after, [])


class RateLimiter:
    """Admits or rejects each API request; a rejected request consumes nothing from any bucket."""

    def __init__(
        self, settings: RateLimitSettings, portal_id: int, clock: Callable[[], float] = time.monotonic
    ):
        self._settings = settings
        self._portal_id = portal_id
        self.clock = clock  # seconds; tests hand the limiter and the client one manual clock
        self._lock = threading.Lock()
        self._burst: dict[str, deque[float]] = {}
        self._search: deque[float] = deque()
        self._daily_used = 0

    @property
    def settings(self) -> RateLimitSettings:
        return self._settings

    @property
    def daily_used(self) -> int:
        return self._daily_used

    def configure(self, **changes: object) -> None:
        with self._lock:
            self._settings = replace(self._settings, **changes)
            self._burst.clear()
            self._search.clear()

    def new_day(self) -> None:
        """The daily allowance resets at the account's midnight, i.e. when the sandbox clock advances."""
        with self._lock:
            self._daily_used = 0

    def admit(self, token: str, search: bool) -> Headers:
        """Count one request; returns the §9.2 headers (none for search or when limits are off) or 429s."""
        s = self._settings
        with self._lock:
            if not s.enabled:
                self._daily_used += 1
                return []
            now = self.clock()
            window = self._burst.setdefault(token, deque())
            _expire(window, now - BURST_WINDOW_SECONDS)
            if self._daily_used >= s.daily:
                raise daily_error(s.retry_after, [] if search else self._headers(len(window)))
            if search:
                _expire(self._search, now - SEARCH_WINDOW_SECONDS)
                if len(self._search) >= s.search_per_second:
                    raise secondly_error(s.retry_after)
                self._search.append(now)
                self._daily_used += 1
                return []
            if len(window) >= s.burst:
                raise ten_secondly_error(self._portal_id, s.retry_after, self._headers(len(window)))
            window.append(now)
            self._daily_used += 1
            return self._headers(len(window))

    def _headers(self, used_in_window: int) -> Headers:
        s = self._settings
        return [
            ("X-HubSpot-RateLimit-Max", str(s.burst)),
            ("X-HubSpot-RateLimit-Remaining", str(max(s.burst - used_in_window, 0))),
            ("X-HubSpot-RateLimit-Interval-Milliseconds", str(int(BURST_WINDOW_SECONDS * 1000))),
            ("X-HubSpot-RateLimit-Daily", str(s.daily)),
            ("X-HubSpot-RateLimit-Daily-Remaining", str(max(s.daily - self._daily_used, 0))),
        ]


def _expire(window: deque[float], horizon: float) -> None:
    while window and window[0] <= horizon:
        window.popleft()
