"""Time conversions between epoch milliseconds (the model's internal unit) and HubSpot's formats."""

from __future__ import annotations

import datetime as dt
import time
from functools import lru_cache

UTC = dt.UTC
DAY_MS = 86_400_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


def ms_to_datetime(ms: int) -> dt.datetime:
    """Epoch milliseconds -> tz-aware UTC datetime."""
    return _EPOCH + dt.timedelta(milliseconds=int(ms))


def datetime_to_ms(value: dt.datetime) -> int:
    """Tz-aware (or naive UTC) datetime -> epoch milliseconds."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def date_to_ms(day: dt.date) -> int:
    """Midnight UTC of a date -> epoch milliseconds."""
    return (day - dt.date(1970, 1, 1)).days * DAY_MS


# The pieces of a timestamp, formatted once: a record page formats thousands of timestamps.
_CLOCK_MINUTES = tuple(f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60))
_SECONDS = tuple(f"{s:02d}." for s in range(60))
_MILLIS = tuple(f"{ms:03d}Z" for ms in range(1000))


@lru_cache(maxsize=8192)
def _day_prefix(day: int) -> str:
    """`2024-01-17T` of a day number since the epoch."""
    return time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))


def iso_ms(ms: int) -> str:
    """Epoch milliseconds -> HubSpot's ISO form `2024-01-17T19:55:04.281Z`."""
    day, rest = divmod(int(ms), DAY_MS)
    second, milli = divmod(rest, 1000)
    minute, sec = divmod(second, 60)
    return _day_prefix(day) + _CLOCK_MINUTES[minute] + _SECONDS[sec] + _MILLIS[milli]


def iso_date(ms: int) -> str:
    """Epoch milliseconds -> `2024-01-17` (HubSpot's `date` property format)."""
    return _day_prefix(int(ms) // DAY_MS)[:10]


def parse_time_ms(text: str) -> int:
    """A search filter value -> epoch ms: epoch milliseconds, an ISO datetime or an ISO date."""
    text = text.strip()
    try:
        return int(float(text))
    except ValueError:
        pass
    if len(text) == 10:
        return date_to_ms(dt.date.fromisoformat(text))
    return datetime_to_ms(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
