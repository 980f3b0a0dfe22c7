"""`TableWriter`: one table of one day, written as gzip-CSV parts, then its manifest, then cleanup.

Order of operations, so a reader following the manifest never sees a half-written or mixed table:
1. parts are uploaded as they fill up, under names of this run (`part-<run8>-<NNNNN>.csv.gz`);
2. on clean exit the last part is uploaded, then `_manifest.json` (the switch-over);
3. then every other object in the table's folder (earlier runs' parts) is deleted.
On an exception, no manifest is written and the parts of this run are deleted: the previous
run's parts and manifest stay as they were.

Two modes:
- `with dest.table_writer(...) as w:` publishes on clean exit (steps 2 and 3 above);
- `TableWriter(..., staged=True)` stops after the last part on clean exit: the manifest is held back
  (`pending_manifest`) until `publish()` writes it and deletes the earlier runs' parts, or
  `discard()` deletes this run's parts. Until then readers see the previous run, and parts of an
  unpublished run are named by no manifest, so a killed process leaves the previous run intact.
  The export uses it to publish a day's tables only after their checks pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from hubspot_pipeline.store.csv_format import check_columns, header_line, render_arrow, render_rows
from hubspot_pipeline.store.keys import manifest_key, part_key, part_run_and_index, table_prefix
from hubspot_pipeline.store.manifest import build_manifest, manifest_bytes
from hubspot_pipeline.store.parts import PartPacker

if TYPE_CHECKING:
    from hubspot_pipeline.store.csv_format import Column
    from hubspot_pipeline.store.destination import Destination

log = logging.getLogger(__name__)

DEFAULT_MAX_PART_BYTES = 15 * 1024 * 1024  # HubSpot's export splits files at 15 MB
# Rows are rendered and compressed ~2 MB of CSV text at a time: big enough for good compression and
# few gzip members, small enough that memory stays at about one part plus one batch.
_BATCH_TEXT_BYTES = 2 * 1024 * 1024
_FIRST_BATCH_ROWS = 256  # until the row width is known
_MAX_BATCH_ROWS = 100_000
_RUN8_RE = re.compile(r"[A-Za-z0-9_\-]{1,8}")


@dataclass(frozen=True)
class PartInfo:
    key: str  # relative to the destination's prefix, like every key
    bytes: int
    sha256: str
    rows: int


@dataclass(frozen=True)
class TableResult:
    table: str
    rows: int
    parts: list[PartInfo]
    bytes: int  # sum of the parts' gzip bytes
    manifest_key: str  # where the manifest is (or, staged, will be once published)


class TableWriter:
    """Context manager; see the module docstring. Get one from `Destination.table_writer`."""

    def __init__(
        self,
        dest: Destination,
        day: str,
        table: str,
        columns: Sequence[Column],
        *,
        run_id: str,
        account_id: str | int,
        as_of: dt.datetime,
        max_part_bytes: int = DEFAULT_MAX_PART_BYTES,
        notes: Sequence[str] = (),
        staged: bool = False,
    ) -> None:
        # Validate everything before the first object is written.
        self._prefix = table_prefix(day, table)
        self._columns = check_columns(columns)
        if not _RUN8_RE.fullmatch(run_id[:8]):
            raise ValueError(f"run_id {run_id!r} must start with 1-8 letters, digits, '_' or '-'")
        if not isinstance(as_of, dt.datetime):
            raise TypeError(f"as_of must be a datetime, not {type(as_of).__name__}")
        self._dest = dest
        self._day = day
        self._table = table
        self._run_id = run_id
        self._run8 = run_id[:8]
        self._account_id = account_id
        self._as_of = as_of
        self._notes = [str(n) for n in notes]
        self._replaced = 0  # characters made U+FFFD (`render_rows`), noted in the manifest
        self._staged = staged
        self._packer = PartPacker(header_line(self._columns), max_part_bytes, self._upload_part)
        # A few batches per part at least, so a part is filled to within a small batch of the limit.
        self._batch_text_bytes = max(1, min(_BATCH_TEXT_BYTES, max_part_bytes // 4))
        self._batch_rows = _FIRST_BATCH_ROWS
        self._pending: list[Sequence[Any]] = []
        self._parts: list[PartInfo] = []
        self._next_index = 0
        self._state: Literal["new", "open", "staged", "done", "failed"] = "new"
        self._result: TableResult | None = None
        self._manifest: bytes | None = None

    @property
    def result(self) -> TableResult:
        if self._result is None:
            raise RuntimeError(f"{self._prefix}: the result exists only after the with-block exits cleanly")
        return self._result

    def __enter__(self) -> TableWriter:
        if self._state != "new":
            raise RuntimeError("a TableWriter can be used once")
        # A retry of the same run (same run8) must not overwrite parts its earlier manifest names.
        indexes = [
            found[1]
            for info in self._dest.list(self._prefix)
            if (found := part_run_and_index(info.key)) and found[0] == self._run8
        ]
        self._next_index = max(indexes, default=-1) + 1
        self._state = "open"
        return self

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> None:
        """Append rows, each a sequence of values in column order."""
        self._check_open()
        iterator = iter(rows)
        while chunk := list(itertools.islice(iterator, self._batch_rows - len(self._pending))):
            self._pending.extend(chunk)
            if len(self._pending) >= self._batch_rows:
                self._flush_pending()

    def write_batch(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Append an Arrow batch whose column names match the table's (any case, same order)."""
        self._check_open()
        self._flush_pending()  # keep the order of rows written before
        offset = 0
        while offset < batch.num_rows:
            piece = batch.slice(offset, self._batch_rows)
            self._pack(render_arrow(piece, self._columns))
            offset += piece.num_rows

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        if exc_type is not None:
            self._fail()
            return False
        try:
            self._flush_pending()
            self._packer.close()
            self._stage_manifest()
            if not self._staged:
                self._dest.put_bytes(manifest_key(self._day, self._table), self.pending_manifest)
        except BaseException:
            self._fail()
            raise
        if self._staged:
            self._state = "staged"
        else:
            self._done()
        return False

    @property
    def pending_manifest(self) -> bytes:
        """The manifest `publish()` will write (staged mode, after a clean exit)."""
        if self._manifest is None:
            raise RuntimeError(f"{self._prefix}: the manifest exists only after the with-block exits cleanly")
        return self._manifest

    def publish(self) -> None:
        """Staged mode: write the manifest (the switch-over), then delete the earlier runs' parts."""
        if self._state != "staged":
            raise RuntimeError(f"{self._prefix}: only a staged table can be published (state {self._state})")
        self._dest.put_bytes(manifest_key(self._day, self._table), self.pending_manifest)
        self._done()

    def discard(self) -> None:
        """Staged mode: delete this run's parts, leaving the published table as it was. A no-op once
        published or failed, so a caller can discard every writer of a run that stopped half-way."""
        if self._state == "staged":
            self._fail()

    def _replaced_note(self) -> list[str]:
        if not self._replaced:
            return []
        return [
            f"{self._replaced} characters UTF-8 cannot encode (lone UTF-16 surrogates) were written as U+FFFD"
        ]

    def _stage_manifest(self) -> None:
        manifest = build_manifest(
            table=self._table,
            day=self._day,
            columns=self._columns,
            parts=self._parts,
            run_id=self._run_id,
            as_of=self._as_of,
            account_id=self._account_id,
            written_at=dt.datetime.now(dt.UTC),
            notes=[*self._notes, *self._replaced_note()],
        )
        self._manifest = manifest_bytes(manifest)
        self._result = TableResult(
            table=self._table,
            rows=manifest["rows"],
            parts=list(self._parts),
            bytes=sum(p.bytes for p in self._parts),
            manifest_key=manifest_key(self._day, self._table),
        )

    def _done(self) -> None:
        self._state = "done"
        self._delete_stale()

    def _check_open(self) -> None:
        if self._state != "open":
            raise RuntimeError(f"{self._prefix}: write inside `with dest.table_writer(...) as w:`")

    def _flush_pending(self) -> None:
        if self._pending:
            rows, self._pending = self._pending, []
            self._pack(render_rows(rows, self._columns, self._count_replaced))

    def _count_replaced(self, characters: int) -> None:
        self._replaced += characters

    def _pack(self, rendered: pa.Table) -> None:
        # Size the next batch from this one so batches stay near _BATCH_TEXT_BYTES whatever the row width.
        bytes_per_row = max(1, rendered.nbytes // max(1, rendered.num_rows))
        self._batch_rows = max(1, min(_MAX_BATCH_ROWS, self._batch_text_bytes // bytes_per_row))
        self._packer.add(rendered)

    def _upload_part(self, data: bytes | bytearray, rows: int) -> None:
        key = part_key(self._day, self._table, self._run8, self._next_index)
        self._next_index += 1
        self._dest.put_bytes(key, data)
        self._parts.append(
            PartInfo(key=key, bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), rows=rows)
        )

    def _fail(self) -> None:
        """Remove this run's parts; the previous manifest and its parts are never touched."""
        self._state = "failed"
        self._pending = []
        self._result = None
        self._packer.abort()  # its compression threads, now rather than at garbage collection
        try:
            self._dest.delete([p.key for p in self._parts])
        except Exception:  # the original error matters more; a leftover part is named by no manifest
            log.warning("could not delete the parts of a failed write under %s", self._prefix, exc_info=True)

    def _delete_stale(self) -> None:
        keep = {p.key for p in self._parts} | {manifest_key(self._day, self._table)}
        stale = [info.key for info in self._dest.list(self._prefix) if info.key not in keep]
        if stale:
            self._dest.delete(stale)
            log.info("deleted %d objects of earlier runs under %s", len(stale), self._prefix)
