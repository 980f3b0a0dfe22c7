"""The records a sync could not read: per record its error, when it was first and last tried, and
how many times, kept in the index so that each daily run retries them and SYNC_ISSUES lists them.

HubSpot's batch read answers 207 when some inputs fail: the failing ids are missing from `results`
and named in `errors[].context.ids` with a `category` and `message` (hubspot-api.md §2.2, §8.3).
`OBJECT_NOT_FOUND` is not a failure (the record was deleted between the listing and the read; the
archived list has it). Every other category is: the record stays out of the index's new generation
(an earlier version, if any, keeps serving) and is listed here.

Each generation that read records names its file of failed records in `stats["failed_records"]`
(`_state/index/failed/<gen>.parquet`, outside the generation folders so compaction keeps it: SYNC_ISSUES
of a past day reads the file of the generation that synced the day). The file holds the whole set
after that generation: the previous set, minus the records read successfully (or found deleted),
plus the new failures, with `attempts` counting consecutive failed reads. A record whose attempts reach
`HUBSPOT_FAILED_RETRY_DAYS` is no longer retried daily (it stays FAILED and is reported, until it
changes in HubSpot, which makes the daily sync read it, or a `resync` of `failed` reads it).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hubspot_pipeline import settings
from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync.index import INDEX_PREFIX, TIMESTAMP, Generation, to_ms

NOT_FOUND = "OBJECT_NOT_FOUND"
STATS_KEY = "failed_records"  # a generation's stats: the key of its failed-records file ("" none)
RETRY_DAYS_KEY = "failed_retry_days"  # ... and the retries a record got before it waited for a resync
DEFAULT_RETRY_DAYS = int(settings.SETTINGS["HUBSPOT_FAILED_RETRY_DAYS"].default)

FAILED_SCHEMA = pa.schema(
    [
        pa.field("type_id", pa.string(), nullable=False),
        pa.field("object_id", pa.int64(), nullable=False),
        pa.field("part", pa.string(), nullable=False),  # "live" or "archived": the read that failed
        pa.field("category", pa.string(), nullable=False),
        pa.field("message", pa.string()),
        pa.field("first_attempt_at", TIMESTAMP, nullable=False),
        pa.field("last_attempt_at", TIMESTAMP, nullable=False),
        pa.field("attempts", pa.int32(), nullable=False),
    ]
)


def failed_key(generation: str) -> str:
    return f"{INDEX_PREFIX}/failed/{generation}.parquet"


def batch_failures(body: Any) -> list[tuple[int, str, str]]:
    """(record id, category, message) of every input a 207 batch answer says failed, not-found aside."""
    found: list[tuple[int, str, str]] = []
    errors = body.get("errors") if isinstance(body, Mapping) else None
    for error in errors or []:
        if not isinstance(error, Mapping):
            continue
        category = str(error.get("category") or "UNKNOWN")
        if category == NOT_FOUND:
            continue
        message = str(error.get("message") or "")
        context = error.get("context") if isinstance(error.get("context"), Mapping) else {}
        for raw in (context.get("ids") or context.get("id") or []) if context else []:
            try:
                found.append((int(raw), category, message))
            except (TypeError, ValueError):
                continue
    return found


@dataclass
class FailureLog:
    """What one run's batch reads attempted and which of them failed, per (type id, part)."""

    attempted: dict[tuple[str, str], list[np.ndarray]] = field(default_factory=dict)
    failed: list[tuple[str, str, int, str, str]] = field(default_factory=list)

    def record(self, type_id: str, part: str, inputs: Iterable[int], body: Any) -> list[int]:
        """Note a batch read's inputs and failures; returns the failed ids."""
        ids = np.fromiter((int(i) for i in inputs), dtype=np.int64)
        self.attempted.setdefault((type_id, part), []).append(ids)
        failures = batch_failures(body)
        self.failed += [(type_id, part, i, c, m) for i, c, m in failures]
        return [i for i, _, _ in failures]

    def extend(self, table: pa.Table) -> None:
        """Failures an earlier run of the same generation saved (a resumed full sync)."""
        for row in table.select(["type_id", "part", "object_id", "category", "message"]).to_pylist():
            self.failed.append(
                (row["type_id"], row["part"], row["object_id"], row["category"], row["message"])
            )

    def failures_table(self, at: datetime) -> pa.Table:
        """This run's failures alone, as first attempts at `at`."""
        return merge(empty(), self, at)

    def attempted_ids(self, type_id: str) -> np.ndarray:
        arrays = [a for (t, _), parts in self.attempted.items() if t == type_id for a in parts]
        return np.unique(np.concatenate(arrays)) if arrays else np.array([], dtype=np.int64)


def empty() -> pa.Table:
    return FAILED_SCHEMA.empty_table()


def merge(
    previous: pa.Table,
    log: FailureLog,
    at: datetime,
    *,
    keep_types: Iterable[str] | None = None,
    replaced_types: Iterable[str] = (),
) -> pa.Table:
    """The set of failed records after a run: `previous` minus what the run attempted (read, found
    deleted, or failed again) and minus types no longer synced (`keep_types`) or read whole
    (`replaced_types`), plus this run's failures (attempts counted on from the previous ones)."""
    stamp = to_ms(at) or 0
    drop = np.zeros(previous.num_rows, dtype=bool)
    types = previous.column("type_id").to_numpy(zero_copy_only=False)
    ids = previous.column("object_id").to_numpy()
    for type_id in np.unique(types) if previous.num_rows else []:
        mine = types == type_id
        drop |= mine & np.isin(ids, log.attempted_ids(str(type_id)))
        if (keep_types is not None and type_id not in set(keep_types)) or type_id in set(replaced_types):
            drop |= mine
    kept = previous.filter(pa.array(~drop))
    if not log.failed:
        return kept
    seen = {(t, i): n for n, (t, i) in enumerate(zip(types.tolist(), ids.tolist(), strict=True))}
    first_at = previous.column("first_attempt_at").cast(pa.int64()).to_numpy()
    attempts = previous.column("attempts").to_numpy()
    latest: dict[tuple[str, int], tuple[str, str, str]] = {}
    for type_id, part, object_id, category, message in log.failed:
        latest[(type_id, object_id)] = (part, category, message)  # a record fails once per run
    columns: dict[str, list[Any]] = {name: [] for name in FAILED_SCHEMA.names}
    for (type_id, object_id), (part, category, message) in sorted(latest.items()):
        before = seen.get((type_id, object_id))
        columns["type_id"].append(type_id)
        columns["object_id"].append(object_id)
        columns["part"].append(part)
        columns["category"].append(category)
        columns["message"].append(message)
        columns["first_attempt_at"].append(stamp if before is None else int(first_at[before]))
        columns["last_attempt_at"].append(stamp)
        columns["attempts"].append(1 if before is None else int(attempts[before]) + 1)
    fresh = pa.table(
        {
            **{k: v for k, v in columns.items() if not k.endswith("_at")},
            "first_attempt_at": pa.array(columns["first_attempt_at"], pa.int64()).cast(TIMESTAMP),
            "last_attempt_at": pa.array(columns["last_attempt_at"], pa.int64()).cast(TIMESTAMP),
        }
    ).select(FAILED_SCHEMA.names)
    return sort(pa.concat_tables([kept, fresh.cast(FAILED_SCHEMA)]))


def settle(
    destination: Destination,
    generation: str,
    previous: pa.Table,
    log: FailureLog,
    at: datetime,
    type_ids: list[str],
    per_type: dict[str, dict[str, object]],
    retry_days: int,
) -> dict[str, object]:
    """A run's failed records merged with the previous ones (`merge`), saved for `generation`, and
    counted per category into the per-type figures the run reports; returns the generation's stats
    entries that name them."""
    failed = merge(previous, log, at, keep_types=type_ids)
    for type_id, by_category in counts(failed).items():
        if type_id in per_type:
            per_type[type_id]["failed"] = by_category
    return {STATS_KEY: save(destination, generation, failed), RETRY_DAYS_KEY: retry_days}


def sort(table: pa.Table) -> pa.Table:
    return table.sort_by([("type_id", "ascending"), ("object_id", "ascending")])


def save(destination: Destination, generation: str, table: pa.Table) -> str:
    """Upload a generation's failed records; returns the key for its stats ("" when there are none)."""
    if table.num_rows == 0:
        return ""
    return write(destination, failed_key(generation), table)


def write(destination: Destination, key: str, table: pa.Table) -> str:
    """Upload failed records at `key` (a generation's file, or a full sync's file of one chunk)."""
    sink = io.BytesIO()
    pq.write_table(table.cast(FAILED_SCHEMA), sink, compression="zstd")
    destination.put_bytes(key, sink.getvalue())
    return key


def read(destination: Destination, key: str) -> pa.Table:
    if not key:
        return empty()
    raw = destination.get_bytes(key)
    if raw is None:
        raise FileNotFoundError(f"the index names the failed-records file {key}, which is not on the store")
    return pq.read_table(pa.BufferReader(raw)).cast(FAILED_SCHEMA)


def of_generation(destination: Destination, generation: Generation) -> pa.Table:
    """The failed records after `generation` (none for a generation that names no file)."""
    return read(destination, str(generation.stats.get(STATS_KEY) or ""))


def _of(table: pa.Table, type_id: str, part: str) -> pa.Table:
    return table.filter(
        pc.and_(pc.equal(table.column("type_id"), type_id), pc.equal(table.column("part"), part))
    )


def _ids(table: pa.Table) -> np.ndarray:
    return np.sort(table.column("object_id").to_numpy()) if table.num_rows else np.array([], dtype=np.int64)


def ids_of(table: pa.Table, type_id: str, part: str) -> np.ndarray:
    """Sorted ids of a type's failed records of one part ("live" or "archived")."""
    return _ids(_of(table, type_id, part))


def due(table: pa.Table, type_id: str, part: str, retry_days: int) -> np.ndarray:
    """Sorted ids of a type's failed records to retry today: fewer failed attempts than `retry_days`."""
    mine = _of(table, type_id, part)
    return _ids(mine.filter(pc.less(mine.column("attempts"), retry_days)))


def gave_up(table: pa.Table, type_id: str, part: str, retry_days: int) -> np.ndarray:
    """Sorted ids of a type's failed records no longer retried daily: `retry_days` failed attempts."""
    mine = _of(table, type_id, part)
    return _ids(mine.filter(pc.greater_equal(mine.column("attempts"), retry_days)))


def counts(table: pa.Table) -> dict[str, dict[str, int]]:
    """Failed records per type id and error category."""
    out: dict[str, dict[str, int]] = {}
    if table.num_rows == 0:
        return out
    grouped = table.group_by(["type_id", "category"]).aggregate([("object_id", "count")])
    for row in grouped.to_pylist():
        out.setdefault(row["type_id"], {})[row["category"]] = int(row["object_id_count"])
    return out
