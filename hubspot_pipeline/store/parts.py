"""Packing CSV batches into gzip parts that never exceed a byte limit, compressed on every core.

Each batch is written to CSV and compressed as its own gzip member. Concatenated members are one
valid gzip stream (RFC 1952; gzip, pandas, pyarrow and DuckDB read them), and a member's size is
known before it is appended, so a part is closed as soon as the next member would not fit.

Writing CSV (`pyarrow.csv.write_csv`) and deflate both release the GIL, so batches are turned into
members by a small pool of worker threads while the caller renders the next ones. Members are packed
in the order the batches came, on the caller's thread (the sink too), so parts hold the rows in
order and the packing never depends on which worker finished first. At most `2 x workers` batches
are in flight: memory stays at about one part plus a few batches.

Deflate is zlib-ng's (python-zlib-ng) at its level 6: about 2x the speed of zlib level 6 for parts
of the same size (0.97-1.01x) on export-like CSV (wide property tables, JSON columns, this
benchmark's rows). Its lower levels and ISA-L are faster but 1.06-1.4x bigger on JSON-heavy
columns, against a limit of 1.10x. Output is deterministic for a given zlib-ng build (mtime=0: the
same rows give the same bytes and sha256 in every run, with any number of workers), not across
zlib-ng versions or CPU architectures.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pyarrow as pa
from zlib_ng import gzip_ng

from hubspot_pipeline.store.csv_format import csv_bytes

COMPRESS_LEVEL = 6  # zlib-ng; see the module docstring and bench/store_writer.py
MAX_WORKERS = 8  # caps the batches in flight (memory) on big machines

PartSink = Callable[[bytes | bytearray, int], None]  # (gzip bytes of a finished part, data rows in it)


def gzip_member(data: bytes) -> bytes:
    # mtime=0 so the same rows always give the same bytes (and sha256) in every run.
    return gzip_ng.compress(data, compresslevel=COMPRESS_LEVEL, mtime=0)


def batch_member(rendered: pa.Table) -> bytes:
    """The gzip member of a batch's CSV rows; runs in a worker thread."""
    return gzip_member(csv_bytes(rendered))


def default_workers() -> int:
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


class PartPacker:
    """Packs rendered batches into parts of at most `max_bytes` gzip bytes, each starting with `header`.

    The one exception: a single row that alone (with the header) exceeds the limit is written as a
    part of its own, since a row cannot be split across parts. An error in a worker or in the sink
    is raised by the `add` or `close` that meets it, after the workers have stopped.
    """

    def __init__(self, header: bytes, max_bytes: int, sink: PartSink, *, workers: int | None = None) -> None:
        self._header_member = gzip_member(header)
        if len(self._header_member) >= max_bytes:
            raise ValueError(
                f"max_part_bytes={max_bytes} leaves no room for rows: the compressed header alone "
                f"takes {len(self._header_member)} bytes"
            )
        self._max_bytes = max_bytes
        self._sink = sink
        workers = workers or default_workers()
        # Threads start with the first batch; two batches per worker keep every core busy while
        # the caller renders or the sink uploads.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="part-gzip")
        self._max_in_flight = 2 * workers
        self._in_flight: deque[tuple[pa.Table, Future[bytes]]] = deque()
        self._data = bytearray(self._header_member)
        self._rows = 0
        self._parts = 0

    def add(self, rendered: pa.Table) -> None:
        """Append a batch of rendered rows (Arrow string columns)."""
        if rendered.num_rows == 0:
            return
        try:
            self._in_flight.append((rendered, self._pool.submit(batch_member, rendered)))
            while len(self._in_flight) > self._max_in_flight:
                self._pack_oldest()
        except BaseException:
            self.abort()
            raise

    def close(self) -> None:
        """Emit the last parts; a table with no rows still gets one part holding the header."""
        try:
            while self._in_flight:
                self._pack_oldest()
            if self._rows or not self._parts:
                self._flush()
        finally:
            self.abort()  # stops the threads (and, after an error, drops what is still in flight)

    def abort(self) -> None:
        """Drop the batches in flight and stop the worker threads (waits for the running ones)."""
        self._in_flight.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _pack_oldest(self) -> None:
        rendered, member = self._in_flight.popleft()
        self._pack(rendered, member.result())

    def _pack(self, rendered: pa.Table, member: bytes) -> None:
        if not self._fits(member) and self._rows:
            self._flush()
        if self._fits(member) or rendered.num_rows == 1:
            self._data += member
            self._rows += rendered.num_rows
            if not self._fits(b""):  # an oversized single row: keep it alone in its part
                self._flush()
            return
        # Too big even for an empty part: split and retry. Rare (the writer's batches are a fraction
        # of a part), so the halves are compressed here rather than in the pool.
        half = rendered.num_rows // 2
        for piece in (rendered.slice(0, half), rendered.slice(half)):
            self._pack(piece, batch_member(piece))

    def _fits(self, member: bytes) -> bool:
        return len(self._data) + len(member) <= self._max_bytes

    def _flush(self) -> None:
        self._sink(self._data, self._rows)  # handed over, not copied: a new buffer starts below
        self._parts += 1
        self._data = bytearray(self._header_member)
        self._rows = 0
