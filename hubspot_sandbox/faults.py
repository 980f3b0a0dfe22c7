"""Scripted and random faults: 5xx answers, dropped connections, slow and truncated bodies, 429s."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hubspot_sandbox.errors import ApiError, error_body
from hubspot_sandbox.limits import daily_error, secondly_error, ten_secondly_error
from hubspot_sandbox.responses import HTML_TYPE, Response

FAULT_KINDS: frozenset[str] = frozenset(
    {"500", "502", "503", "504", "reset", "truncate", "slow", "429", "429_daily", "429_search"}
)
# Random faults are the transient kinds a client must retry through; slow answers and the daily
# limit (which should stop a run) are only injected on purpose.
RANDOM_FAULT_KINDS: tuple[str, ...] = ("500", "502", "503", "504", "reset", "truncate", "429")


@dataclass
class _Scripted:
    kind: str
    remaining: int
    path_prefix: str | None


class FaultInjector:
    """Decides, request by request, whether and how to fail.

    Random draws come from one generator seeded by the account seed and consumed once per request,
    so the same request sequence meets the same faults.
    """

    def __init__(self, seed: int, rate: float = 0.0, kinds: Iterable[str] | None = None) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._scripted: list[_Scripted] = []
        self.set_failure_rate(rate, kinds)

    def inject(self, kind: str, count: int = 1, path_prefix: str | None = None) -> None:
        _check_kinds([kind])
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._scripted.append(_Scripted(kind, count, path_prefix))

    def set_failure_rate(self, rate: float = 0.0, kinds: Iterable[str] | None = None) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        chosen = tuple(sorted(kinds)) if kinds is not None else RANDOM_FAULT_KINDS
        _check_kinds(chosen)
        with self._lock:
            self._rate = rate
            self._kinds = chosen
            self._random = random.Random(self._seed)

    def draw(self, path: str) -> str | None:
        """The fault for this request, if any: scripted ones first (in order), then the random rate."""
        with self._lock:
            for entry in self._scripted:
                if entry.path_prefix is None or path.startswith(entry.path_prefix):
                    entry.remaining -= 1
                    if not entry.remaining:
                        self._scripted.remove(entry)
                    return entry.kind
            if self._rate and self._kinds:
                roll, pick = self._random.random(), self._random.randrange(len(self._kinds))
                if roll < self._rate:
                    return self._kinds[pick]
        return None


def _check_kinds(kinds: Iterable[str]) -> None:
    unknown = set(kinds) - FAULT_KINDS
    if unknown:
        raise ValueError(f"unknown fault kinds {sorted(unknown)}; expected some of {sorted(FAULT_KINDS)}")


def _gateway_page(status: int, reason: str) -> Response:
    # Gateway errors come from HubSpot's edge as HTML, not JSON: clients must not assume a JSON body.
    page = (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
    )
    return Response(status, page.encode("ascii"), HTML_TYPE)


def fault_response(
    kind: str,
    serve: Callable[[], Response],
    correlation_id: str,
    *,
    portal_id: int,
    slow_seconds: float,
    retry_after: int | None,
) -> Response:
    """The answer for a faulted request; `serve` produces the normal answer when the fault needs it."""
    if kind == "reset":
        return Response(0, b"", transport="reset")
    if kind in ("slow", "truncate"):
        response = serve()
        if kind == "slow":
            response.delay = slow_seconds
        else:
            response.transport = "truncate"
        return response
    if kind in ("502", "504"):
        return _gateway_page(int(kind), "Bad Gateway" if kind == "502" else "Gateway Timeout")
    errors: dict[str, Callable[[], ApiError]] = {
        "500": lambda: ApiError(500, error_body("internal error", "INTERNAL_ERROR")),
        "503": lambda: ApiError(503, error_body("Service Unavailable", "SERVICE_UNAVAILABLE")),
        "429": lambda: ten_secondly_error(portal_id, retry_after),
        "429_daily": lambda: daily_error(retry_after),
        "429_search": lambda: secondly_error(retry_after),
    }
    return errors[kind]().to_response(correlation_id)
