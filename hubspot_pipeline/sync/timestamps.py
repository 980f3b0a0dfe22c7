"""One rendering of timestamps for every table: ISO 8601 UTC with milliseconds (`2026-11-21T09:30:00.000Z`)."""

from __future__ import annotations

from datetime import UTC, datetime

from hubspot_pipeline.store import format_timestamp


def iso_ms(value: datetime | str | int | float | None) -> str | None:
    """Normalise an API timestamp (ISO string, epoch milliseconds or datetime) to ISO ms Z; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        dt = datetime.fromtimestamp(value / 1000, tz=UTC)
    elif isinstance(value, str):
        if value.isdigit():
            dt = datetime.fromtimestamp(int(value) / 1000, tz=UTC)
        else:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        dt = value
    return format_timestamp(dt)


def parse_ts(value: str) -> datetime:
    """An API timestamp (ISO, with or without Z, or epoch milliseconds) as an aware UTC datetime."""
    if value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
