"""The deployment's numeric settings, parsed in one place: name, type, allowed range, default.

Every reader of a setting goes through `read` (or `read_all`), so a bad value is reported the same
way wherever it is read, in one line that names the variable and says what it accepts:

    HUBSPOT_RATE_LIMIT_PER_10S must be a whole number from 1 to 190, got 'abc'

The code location reads them when it loads and the sync asset at its start, so a bad value stops a
run before anything is written. Unset or blank means the default. This module imports nothing of
the pipeline: every layer may use it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class SettingError(ValueError):
    """A setting's value is not one the pipeline accepts; the message says which and what to fix."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: int | float
    low: int | float
    high: int | float
    whole: bool = True  # a whole number (int), else any number in range (float)
    meaning: str = ""

    def parse(self, raw: str | None) -> int | float:
        text = (raw or "").strip()
        if not text:
            return self.default
        try:
            value: int | float = int(text) if self.whole else float(text)
        except ValueError:
            value = math.nan
        if not (self.low <= value <= self.high):  # NaN fails too
            kind = "a whole number" if self.whole else "a number"
            raise SettingError(f"{self.name} must be {kind} from {self.low:,} to {self.high:,}, got {raw!r}")
        return value


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        # HubSpot's own burst limit is 100 or 190 per 10 s by tier; above it every call would 429
        Setting("HUBSPOT_RATE_LIMIT_PER_10S", 100, 1, 190, meaning="calls per rolling 10 s"),
        # below a few KiB the compressed header leaves room for hardly a row: a part per row or two
        Setting("HUBSPOT_MAX_PART_BYTES", 15 * 1024 * 1024, 4096, 15 * 1024 * 1024, meaning="gzip bytes"),
        # a negative look-back would skip the changes made just before the watermark
        Setting("HUBSPOT_SYNC_LOOKBACK_MINUTES", 60, 0, 7 * 24 * 60, whole=False, meaning="minutes"),
        Setting("HUBSPOT_ASSOCIATION_REFRESH_DAYS", 7, 1, 365, meaning="days"),
        Setting("HUBSPOT_CALCULATED_REFRESH_DAYS", 14, 1, 365, meaning="days"),
        # with the webhooks journal giving the association changes, the re-read is a safety net only
        Setting("HUBSPOT_JOURNAL_ASSOCIATION_REFRESH_DAYS", 28, 1, 365, meaning="days"),
        # every record is compared with HubSpot by the rotating scan within HUBSPOT_CALCULATED_REFRESH_DAYS;
        # the full reconcile (every id listed, N / 100 calls) is the safety net for what search never shows
        Setting("HUBSPOT_RECONCILE_EVERY_DAYS", 28, 1, 365, meaning="days"),
        Setting("HUBSPOT_INDEX_COMPACT_AFTER", 7, 1, 365, meaning="generations"),
        # definition endpoints whose answer rarely changes (properties, association labels,
        # pipelines, event definitions) are re-read at least every this many days (README)
        Setting("HUBSPOT_DEFINITIONS_REFRESH_DAYS", 7, 1, 365, meaning="days"),
        # a record failing this many daily attempts in a row stays FAILED without a daily retry
        Setting("HUBSPOT_FAILED_RETRY_DAYS", 7, 1, 365, meaning="days"),
        # the schedule runs at 01:30 UTC; a day not exported by this hour shows as overdue in the UI
        Setting("HUBSPOT_FRESH_BY_HOUR_UTC", 6, 0, 23, meaning="hour of the day, UTC"),
    )
}


PARTITIONS_START = "HUBSPOT_PARTITIONS_START"


def partitions_start(environ: Mapping[str, str] | None = None, today: dt.date | None = None) -> dt.date:
    """The first day backfills can reach (HUBSPOT_PARTITIONS_START, a date YYYY-MM-DD). Unset: the first
    day of the previous month, so a new deployment shows a month or two of days, not years of empty
    ones; set it to reach further back (a day before the account's first sync is a projection of the
    definitions of that sync)."""
    text = (os.environ if environ is None else environ).get(PARTITIONS_START, "").strip()
    if not text:
        first = (today or dt.datetime.now(dt.UTC).date()).replace(day=1)
        return (first - dt.timedelta(days=1)).replace(day=1)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise SettingError(f"{PARTITIONS_START} must be a date YYYY-MM-DD, got {text!r}") from None


def json_setting(name: str, value: str, opener: str, error: type[ValueError]) -> tuple[Any, str]:
    """A JSON setting given inline (starting with `opener`, `{` or `[`) or as the path of a file that
    holds it: the parsed JSON and where it came from (for messages). Raises `error` naming the
    variable and what to fix."""
    text, origin = value.strip(), name
    if not text.startswith(opener):
        try:
            text = Path(text).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise error(
                f"{name}: cannot read the settings file {value.strip()!r} ({reason}); give a readable JSON "
                f"file or inline JSON starting with '{opener}'"
            ) from None
        origin = f"{name} ({value.strip()})"
    return parse_json(text, origin, error), origin


def parse_json(text: str, origin: str, error: type[ValueError]) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{origin}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def read(name: str, environ: Mapping[str, str] | None = None) -> int | float:
    """The value of one setting in `environ` (default: the process environment)."""
    return SETTINGS[name].parse((os.environ if environ is None else environ).get(name))


def read_all(environ: Mapping[str, str] | None = None) -> dict[str, int | float]:
    """Every setting, checked together: one error naming each bad value."""
    env = os.environ if environ is None else environ
    values, errors = {}, []
    for name, setting in SETTINGS.items():
        try:
            values[name] = setting.parse(env.get(name))
        except SettingError as exc:
            errors.append(str(exc))
    if errors:
        raise SettingError("; ".join(errors))
    return values
