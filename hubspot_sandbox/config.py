"""Configuration of one sandbox instance: which account it serves and how hostile it is."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hubspot_sandbox.model.types import DEFAULT_DEACTIVATED
from hubspot_sandbox.record_failures import RecordFailureRule

SCALES: tuple[str, ...] = ("tiny", "small", "medium", "large")

# A fixed default keeps two sandboxes built without a start date byte-identical.
DEFAULT_START_DATE = dt.date(2026, 1, 1)

# HubSpot's private-app burst tiers (per 10 s) and daily allowances (hubspot-api.md §9.1).
BURST_TIERS: tuple[int, ...] = (100, 190, 250)


@dataclass(frozen=True)
class SandboxConfig:
    """Inputs of a sandbox: the account (seed, scale, start date, wide) and its limits and faults.

    Everything that shapes response bodies is here, so two sandboxes with equal configs and the
    same days advanced answer the same request with the same bytes.
    """

    seed: int = 1
    scale: str = "tiny"
    token: str = "pat-sandbox"
    start_date: dt.date = DEFAULT_START_DATE
    wide: bool = False
    rate_limits: bool = False
    burst: int = 100
    daily: int = 250_000
    search_per_second: int = 5
    retry_after: int | None = None
    search_lag_seconds: float = 0
    failure_rate: float = 0.0
    slow_seconds: float = 2.0
    # Per-record failures of object batch reads (207 errors); none by default.
    record_failures: tuple[RecordFailureRule, ...] = ()
    # Activatable object-library types the account has not activated (ids or names): their endpoints
    # answer an error. HubSpot's own example account: courses and listings off, appointments and services on.
    deactivated_types: tuple[str, ...] = DEFAULT_DEACTIVATED

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {self.scale!r}")
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError("failure_rate must be within [0, 1]")
        if self.burst < 1 or self.daily < 1 or self.search_per_second < 1:
            raise ValueError("rate limits must be positive")
