"""Client-side rate budget: keep the deployment under HubSpot's limits instead of collecting 429s.

Two sliding windows (hubspot-api.md §9.1):
- "general": at most `rate_limit_per_10s` calls in any 10 s (HUBSPOT_RATE_LIMIT_PER_10S, the
  deployment's share of the account's burst budget);
- "search": at most `search_per_second` CRM search calls in any 1 s (search is exempt from the
  10-second bucket and has its own per-account limit).

The general window is scheduled over HubSpot's 10 s plus a margin (5 %): a request reaches the server
some milliseconds after it was paced, and jitter between two requests must not put 101 calls in one
of HubSpot's windows. Each reservation reads the clock while it holds the state's lock, so the
calls of every process are stamped in the order they were admitted.

The windows live in a `PaceState`. `MemoryPaceState` serves one process (thread-safe);
`FilePaceState` keeps the recent call timestamps in a small JSON file under `fcntl.flock`, so every
process of a Dagster deployment (steps run in separate processes) draws from the same budget.

Besides counting its own calls, the pacer reads HubSpot's `X-HubSpot-RateLimit-*` headers: the
server's `Max` caps the local limit, and when `Remaining` runs low (other integrations share the
budget) it holds the general window for a share of the interval. A hold is shared state too, so a
429 seen by one process pauses all of them.

The state also holds the deployment's circuit: when a call has failed through every retry (HubSpot
unreachable, or failing every call), the client opens it with the error's message, and every other
client sharing the state then tries each call once instead of retrying for minutes, until one call
succeeds (which closes it) or `CIRCUIT_OPEN_S` has passed.

`clock` and `sleep` are injectable; `ManualClock` is a clock that moves only when slept on, for
tests and dry runs (pass `clock=mc, sleep=mc.sleep`).
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

GENERAL = "general"
SEARCH = "search"

# Entries within this of the window edge count as rolled off: float rounding of a fake clock
# must not turn "wait exactly until the oldest call expires" into an extra near-zero wait.
_EPSILON = 1e-6


class ManualClock:
    """A clock that advances only when something sleeps on it, recording every sleep."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


CIRCUIT_OPEN_S = 600.0  # after this, a failing call is retried in full again


@dataclass(frozen=True)
class Circuit:
    """An open circuit: why (the message of the call that failed through every retry) and when."""

    message: str
    opened_at: float


@dataclass
class _Window:
    calls: list[float] = field(default_factory=list)  # ascending timestamps
    hold_until: float = 0.0


def _reserve(window: _Window, now: float, limit: int, span: float) -> float:
    """Take a slot at `now` if one is free and return 0, else return how long to wait."""
    cutoff = now - span + _EPSILON
    window.calls = [t for t in window.calls if t > cutoff]
    if window.hold_until > now + _EPSILON:
        return window.hold_until - now
    if len(window.calls) >= limit:
        return window.calls[len(window.calls) - limit] + span - now
    window.calls.append(now)
    return 0.0


class PaceState(Protocol):
    """Where the sliding windows live; both operations are atomic across every user of the state."""

    def reserve(self, key: str, clock: Callable[[], float], limit: int, span: float) -> float:
        """Take a slot at `clock()`, read under the state's lock, or return how long to wait."""
        ...

    def hold(self, key: str, until: float) -> None: ...

    def circuit(self) -> Circuit | None:
        """The open circuit, if any."""
        ...

    def set_circuit(self, circuit: Circuit | None) -> None:
        """Open the circuit (or, with None, close it)."""
        ...


class MemoryPaceState:
    """Windows for the threads of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._circuit: Circuit | None = None

    def reserve(self, key: str, clock: Callable[[], float], limit: int, span: float) -> float:
        with self._lock:
            return _reserve(self._windows.setdefault(key, _Window()), clock(), limit, span)

    def hold(self, key: str, until: float) -> None:
        with self._lock:
            window = self._windows.setdefault(key, _Window())
            window.hold_until = max(window.hold_until, until)

    def circuit(self) -> Circuit | None:
        return self._circuit

    def set_circuit(self, circuit: Circuit | None) -> None:
        with self._lock:
            self._circuit = circuit


@dataclass
class _Shared:
    """What a pace file holds."""

    windows: dict[str, _Window]
    circuit: Circuit | None


class FilePaceState:
    """Windows shared by every process that names the same file (fcntl.flock; local filesystems)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        # flock is per open file description; the thread lock keeps threads of this process orderly too.
        self._lock = threading.Lock()

    def _update(self, change: Callable[[_Shared], float]) -> float:
        with self._lock, open(self.path, "a+", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                f.seek(0)
                shared = self._load(f.read())
                result = change(shared)
                f.seek(0)
                f.truncate()
                doc: dict[str, object] = {
                    "windows": {
                        k: {"calls": w.calls, "hold_until": w.hold_until} for k, w in shared.windows.items()
                    }
                }
                if shared.circuit is not None:
                    doc["circuit"] = {
                        "message": shared.circuit.message,
                        "opened_at": shared.circuit.opened_at,
                    }
                f.write(json.dumps(doc, separators=(",", ":")))
                f.flush()
                return result
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    @staticmethod
    def _load(text: str) -> _Shared:
        try:
            raw = json.loads(text) if text.strip() else {}
            windows = {
                k: _Window([float(t) for t in v["calls"]], float(v["hold_until"]))
                for k, v in raw.get("windows", {}).items()
            }
            circuit = raw.get("circuit")
            return _Shared(
                windows, Circuit(str(circuit["message"]), float(circuit["opened_at"])) if circuit else None
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            # A torn or foreign file must not stop the pipeline: start a fresh window.
            return _Shared({}, None)

    def reserve(self, key: str, clock: Callable[[], float], limit: int, span: float) -> float:
        return self._update(lambda s: _reserve(s.windows.setdefault(key, _Window()), clock(), limit, span))

    def hold(self, key: str, until: float) -> None:
        def change(shared: _Shared) -> float:
            window = shared.windows.setdefault(key, _Window())
            window.hold_until = max(window.hold_until, until)
            return 0.0

        self._update(change)

    def circuit(self) -> Circuit | None:
        with self._lock, open(self.path, "a+", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_SH)
            try:
                f.seek(0)
                return self._load(f.read()).circuit
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def set_circuit(self, circuit: Circuit | None) -> None:
        def change(shared: _Shared) -> float:
            shared.circuit = circuit
            return 0.0

        self._update(change)


@dataclass(frozen=True)
class RateLimitHeaders:
    """The `X-HubSpot-RateLimit-*` values of one response (absent on search and on some responses)."""

    max: int
    remaining: int
    interval_s: float

    @classmethod
    def parse(cls, headers: Mapping[str, str]) -> RateLimitHeaders | None:
        try:
            return cls(
                max=int(headers["X-HubSpot-RateLimit-Max"]),
                remaining=int(headers["X-HubSpot-RateLimit-Remaining"]),
                interval_s=int(headers.get("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")) / 1000,
            )
        except (KeyError, ValueError):
            return None


class Pacer:
    """Blocks before each call until the budget allows it."""

    def __init__(
        self,
        *,
        rate_limit_per_10s: int = 100,
        search_per_second: int = 5,
        state: PaceState | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        general_window_s: float = 10.0,
        margin: float = 0.05,
    ) -> None:
        if rate_limit_per_10s < 1 or search_per_second < 1:
            raise ValueError("rate limits must be at least 1 call per window")
        self.rate_limit = rate_limit_per_10s
        self.search_per_second = search_per_second
        self.state: PaceState = state if state is not None else MemoryPaceState()
        self.clock = clock
        self.sleep = sleep
        self.general_window_s = general_window_s
        self.margin = margin  # share of the general window added to it (see the module docstring)
        self._server_max: int | None = None
        self._lock = threading.Lock()
        self.waited_s = 0.0  # total time spent waiting for the budget, for metadata and benchmarks

    @property
    def general_limit(self) -> int:
        """The configured share, never above what the server says the app may use."""
        return min(self.rate_limit, self._server_max) if self._server_max else self.rate_limit

    def acquire(self, search: bool = False) -> float:
        """Wait until a call may be sent, take its slot and return the seconds waited."""
        key, limit, span = (
            (SEARCH, self.search_per_second, 1.0)
            if search
            else (GENERAL, self.general_limit, self.general_window_s * (1 + self.margin))
        )
        waited = 0.0
        while (wait := self.state.reserve(key, self.clock, limit, span)) > 0:
            self.sleep(wait)
            waited += wait
        with self._lock:
            self.waited_s += waited
        return waited

    def open_circuit(self) -> Circuit | None:
        """The deployment's open circuit, unless it was opened more than `CIRCUIT_OPEN_S` ago."""
        circuit = self.state.circuit()
        if circuit is None or self.clock() - circuit.opened_at > CIRCUIT_OPEN_S:
            return None
        return circuit

    def trip(self, message: str) -> None:
        self.state.set_circuit(Circuit(message, self.clock()))

    def reset_circuit(self) -> None:
        self.state.set_circuit(None)

    def hold(self, seconds: float, search: bool = False) -> None:
        """Pause every user of the state: a rate-limit 429 concerns the whole deployment."""
        self.state.hold(SEARCH if search else GENERAL, self.clock() + seconds)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Slow down from the response's rate-limit headers before the server answers 429."""
        info = RateLimitHeaders.parse(headers)
        if info is None or info.max < 1:
            return
        self._server_max = info.max
        low_water = max(1, math.ceil(info.max * 0.05))
        if info.remaining <= low_water:
            # Assume the window's calls are spread evenly: one slot frees every interval/max seconds.
            # Wait for as many slots as we are below the low-water mark, so a nearly spent window is
            # approached at the sustainable rate instead of run into.
            self.hold(info.interval_s / info.max * (low_water + 1 - info.remaining))
