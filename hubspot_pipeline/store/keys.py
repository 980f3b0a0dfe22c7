"""Object keys of the export layout (DESIGN §3), all relative to the destination's prefix.

<YYYY-MM-DD>/<TABLE>/part-<run8>-<NNNNN>.csv.gz
<YYYY-MM-DD>/<TABLE>/_manifest.json
"""

from __future__ import annotations

import datetime as dt
import re

MANIFEST_NAME = "_manifest.json"
PART_SUFFIX = ".csv.gz"

# Table names become folder names; "_" and "." starts are reserved (_state/, _manifest.json, temp files).
_TABLE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")
_PART_RE = re.compile(r"part-(?P<run8>[^/]+)-(?P<index>\d{5,})" + re.escape(PART_SUFFIX))


def check_key(key: str) -> str:
    """Reject keys that could escape the prefix or that S3 and a file system would treat differently."""
    if any(part in ("", ".", "..") for part in key.split("/")):  # also catches "", "/abs" and "dir/"
        raise ValueError(f"invalid object key {key!r}: use a relative key like '2026-11-21/OWNERS/x.csv.gz'")
    return key


def check_day(day: str) -> str:
    try:
        parsed = dt.date.fromisoformat(day)
    except (TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.isoformat() != day:
        raise ValueError(f"invalid day {day!r}: expected YYYY-MM-DD")
    return day


def check_table(table: str) -> str:
    if not _TABLE_RE.fullmatch(table):
        raise ValueError(
            f"invalid table name {table!r}: use letters, digits, '_' or '-', not starting with '_'"
        )
    return table


def table_prefix(day: str, table: str) -> str:
    """The table's folder, with the trailing slash so OWNERS never matches OWNER_TEAM."""
    return f"{check_day(day)}/{check_table(table)}/"


def manifest_key(day: str, table: str) -> str:
    return table_prefix(day, table) + MANIFEST_NAME


def part_key(day: str, table: str, run8: str, index: int) -> str:
    return f"{table_prefix(day, table)}part-{run8}-{index:05d}{PART_SUFFIX}"


def part_run_and_index(key: str) -> tuple[str, int] | None:
    """(run8, index) of a part key, or None if the key is not a part."""
    match = _PART_RE.fullmatch(key.rsplit("/", 1)[-1])
    return (match["run8"], int(match["index"])) if match else None
