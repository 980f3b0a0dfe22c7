"""Time conversions between epoch milliseconds (the model's internal unit) and HubSpot's formats."""

from __future__ import annotations

import datetime as dt
import time

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


def iso_ms(ms: int) -> str:
    """Epoch milliseconds -> HubSpot's ISO form `2024-01-17T19:55:04.281Z`."""
    ms = int(ms)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(ms // 1000))}.{ms % 1000:03d}Z"


def iso_date(ms: int) -> str:
    """Epoch milliseconds -> `2024-01-17` (HubSpot's `date` property format)."""
    return time.strftime("%Y-%m-%d", time.gmtime(int(ms) // 1000))


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
