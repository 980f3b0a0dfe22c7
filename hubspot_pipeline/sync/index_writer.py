"""Writing index segments: Arrow batches streamed into a local Parquet file, uploaded once complete."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync.index import RecordSegment, segment_key

# Row groups of at most this many rows or bytes (of Arrow memory, whichever comes first): large
# enough for good compression, small enough that a reader scanning a range of ids decompresses
# little beyond it and that a writer buffering one row group stays small (a records row holds every
# property value of a record).
ROW_GROUP_ROWS = 64_000
ROW_GROUP_BYTES = 16 * 1024 * 1024


class RowSink(Protocol):
    """Where rows go: a segment file, or something that passes them on to one."""

    rows_appended: int

    def append(self, table: pa.Table) -> None: ...


class SegmentFile:
    """One immutable segment: `append` Arrow tables (in `object_id` order), then `upload` it whole.

    Memory holds at most one row group (plus the last table appended); the file lives in a temp folder until it is uploaded, so a
    run that fails never leaves a half-written object on the store.
    """

    def __init__(self, schema: pa.Schema, tmp_dir: str | os.PathLike[str]) -> None:
        fd, path = tempfile.mkstemp(suffix=".parquet", dir=tmp_dir)
        os.close(fd)
        self.path = Path(path)
        self.schema = schema
        self.rows = 0  # rows written to the file so far
        self.rows_appended = 0  # rows handed to `append` so far (written or pending)
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._pending_bytes = 0
        self._writer = pq.ParquetWriter(self.path, schema, compression="zstd")
        self._closed = False

    def append(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._pending.append(table.select(self.schema.names).cast(self.schema))
        self._pending_rows += table.num_rows
        self._pending_bytes += table.nbytes
        self.rows_appended += table.num_rows
        if self._pending_rows >= ROW_GROUP_ROWS or self._pending_bytes >= ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            table = pa.concat_tables(self._pending)
            self._writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            self.rows += table.num_rows
            self._pending, self._pending_rows, self._pending_bytes = [], 0, 0

    def upload(self, destination: Destination, key: str) -> int:
        """Close the file, put it at `key`, delete the local copy; returns the row count."""
        self._flush()
        self._close()
        try:
            destination.put_file(key, self.path)
        finally:
            self.path.unlink(missing_ok=True)
        return self.rows

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self._writer.close()

    def discard(self) -> None:
        self._close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> SegmentFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.discard()  # a no-op after `upload`; otherwise the local file is dropped


def upload_segment(
    destination: Destination,
    gen: str,
    type_id: str,
    part: str,
    records: SegmentFile,
    history: SegmentFile,
    *,
    name: str | None = None,
) -> RecordSegment:
    """Upload one part's records and history files and describe them as a segment of the manifest;
    `name` (default: the part) tells apart the files of a part written in several chunks."""
    records_key = segment_key(gen, type_id, "records", name or part)
    history_key = segment_key(gen, type_id, "history", name or part)
    return RecordSegment(
        type_id=type_id,
        part=part,
        records=records_key,
        history=history_key,
        record_count=records.upload(destination, records_key),
        history_rows=history.upload(destination, history_key),
    )
