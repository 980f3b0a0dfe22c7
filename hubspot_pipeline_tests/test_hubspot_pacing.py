"""The client-side rate budget: sliding windows, header feedback, and sharing through a pace file."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from hubspot_pipeline.hubspot.pacing import (
    FilePaceState,
    ManualClock,
    MemoryPaceState,
    Pacer,
    RateLimitHeaders,
)


def _pacer(clock: ManualClock, **kwargs: object) -> Pacer:
    """A pacer on a manual clock; without the margin, so the window arithmetic is HubSpot's own."""
    kwargs.setdefault("margin", 0.0)
    return Pacer(clock=clock, sleep=clock.sleep, **kwargs)  # type: ignore[arg-type]


def test_the_general_window_keeps_a_margin_under_hubspots() -> None:
    clock = ManualClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep, rate_limit_per_10s=100)
    waits = [pacer.acquire() for _ in range(101)]
    assert waits[:100] == [0.0] * 100
    assert waits[100] == pytest.approx(10.5)  # 5 %: jitter on the way cannot fit 101 in 10 s


def test_burst_over_the_limit_waits_for_the_window_to_roll() -> None:
    clock = ManualClock()
    pacer = _pacer(clock, rate_limit_per_10s=3)
    sent = []
    for _ in range(7):
        pacer.acquire()
        sent.append(clock.now - 1_000_000.0)
    assert sent == [0, 0, 0, 10, 10, 10, 20]
    assert clock.sleeps == [10.0, 10.0]
    assert pacer.waited_s == pytest.approx(20.0)


def test_window_slides_instead_of_resetting() -> None:
    clock = ManualClock()
    pacer = _pacer(clock, rate_limit_per_10s=3)
    for gap in (0, 4, 4):  # calls at t=0, 4, 8
        clock.now += gap
        pacer.acquire()
    clock.now += 1  # t=9: the window holds 3 calls; the one at t=0 expires at t=10
    assert pacer.acquire() == pytest.approx(1.0)
    assert pacer.acquire() == pytest.approx(4.0)  # next free slot: the t=4 call expires at t=14
    assert clock.now - 1_000_000.0 == pytest.approx(14.0)


def test_search_has_its_own_per_second_bucket() -> None:
    clock = ManualClock()
    pacer = _pacer(clock, rate_limit_per_10s=1, search_per_second=5)
    pacer.acquire()  # spends the whole general budget
    waits = [pacer.acquire(search=True) for _ in range(6)]
    assert waits == [0, 0, 0, 0, 0, pytest.approx(1.0)]
    assert pacer.acquire() == pytest.approx(9.0)  # general: 10 s after t=0, we are at t=1


def test_headers_cap_the_limit_and_brake_when_remaining_runs_low() -> None:
    clock = ManualClock()
    pacer = _pacer(clock, rate_limit_per_10s=100)
    pacer.observe({"X-HubSpot-RateLimit-Max": "50", "X-HubSpot-RateLimit-Remaining": "40"})
    assert pacer.general_limit == 50
    assert pacer.acquire() == 0.0
    # Remaining 0 of 50 with 5 % low water (3): hold (3 + 1 - 0) slots of 10 s / 50.
    pacer.observe(
        {
            "X-HubSpot-RateLimit-Max": "50",
            "X-HubSpot-RateLimit-Remaining": "0",
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        }
    )
    assert pacer.acquire() == pytest.approx(0.8)
    pacer.observe({"X-HubSpot-RateLimit-Max": "50", "X-HubSpot-RateLimit-Remaining": "30"})
    assert pacer.acquire() == 0.0


def test_rate_limit_headers_are_optional() -> None:
    assert RateLimitHeaders.parse({}) is None
    assert (
        RateLimitHeaders.parse({"X-HubSpot-RateLimit-Max": "x", "X-HubSpot-RateLimit-Remaining": "1"}) is None
    )
    parsed = RateLimitHeaders.parse({"X-HubSpot-RateLimit-Max": "190", "X-HubSpot-RateLimit-Remaining": "7"})
    assert parsed == RateLimitHeaders(max=190, remaining=7, interval_s=10.0)


def test_hold_is_shared_through_the_pace_file(tmp_path: Path) -> None:
    clock = ManualClock()
    path = tmp_path / "pace.json"
    first, second = (_pacer(clock, state=FilePaceState(path)) for _ in range(2))
    first.hold(10.0)
    assert second.acquire() == pytest.approx(10.0)


def test_pace_file_counts_calls_of_every_pacer(tmp_path: Path) -> None:
    clock = ManualClock()
    path = tmp_path / "pace.json"
    pacers = [_pacer(clock, rate_limit_per_10s=4, state=FilePaceState(path)) for _ in range(2)]
    waits = [pacers[i % 2].acquire() for i in range(6)]
    assert waits == [0, 0, 0, 0, pytest.approx(10.0), 0]


def test_a_corrupt_pace_file_starts_a_fresh_window(tmp_path: Path) -> None:
    path = tmp_path / "pace.json"
    path.write_text("{not json")
    clock = ManualClock()
    pacer = _pacer(clock, rate_limit_per_10s=1, state=FilePaceState(path))
    assert pacer.acquire() == 0.0
    assert pacer.acquire() == pytest.approx(10.0)


def test_memory_state_is_not_shared_between_pacers() -> None:
    clock = ManualClock()
    first, second = (_pacer(clock, rate_limit_per_10s=1, state=MemoryPaceState()) for _ in range(2))
    assert first.acquire() == 0.0
    assert second.acquire() == 0.0


def _acquire_times(path: str, calls: int, limit: int, window: float, queue: multiprocessing.Queue) -> None:
    admitted = [0.0]

    def clock() -> float:  # read under the pace file's lock: the last read is the admission time
        admitted[0] = time.time()
        return admitted[0]

    pacer = Pacer(
        rate_limit_per_10s=limit, state=FilePaceState(path), general_window_s=window, margin=0.0, clock=clock
    )
    stamps = []
    for _ in range(calls):
        pacer.acquire()
        stamps.append(admitted[0])
    queue.put(stamps)


def test_pace_file_keeps_two_processes_within_one_budget(tmp_path: Path) -> None:
    """Admission times, not the times the callers got to run again: a loaded machine may stall a
    process between the two, and the budget is about when calls were let through."""
    limit, window, per_process = 4, 1.0, 6
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue = ctx.Queue()
    args = (str(tmp_path / "pace.json"), per_process, limit, window, queue)
    workers = [ctx.Process(target=_acquire_times, args=args) for _ in range(2)]
    for worker in workers:
        worker.start()
    stamps = sorted(queue.get(timeout=60) + queue.get(timeout=60))
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert len(stamps) == 2 * per_process
    # No window of `window` seconds holds more than `limit` calls of the two processes together...
    for i in range(len(stamps) - limit):
        assert stamps[i + limit] - stamps[i] >= window - 1e-5
    # ...so 12 calls at 4 per second span at least 2 s (each process alone would be done in 1 s).
    assert stamps[-1] - stamps[0] >= 2 * window - 1e-5
