"""Packing CSV batches into gzip parts that never exceed a byte limit, with flat memory.

Each batch is compressed as its own gzip member. Concatenated members are one valid gzip stream
(RFC 1952; gzip, pandas and pyarrow read them), and a member's size is known before it is appended,
so a part is closed as soon as the next member would not fit. A part holds at most the limit plus
nothing else in memory but the batch being packed.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable

import pyarrow as pa

from hubspot_pipeline.store.csv_format import csv_bytes

COMPRESS_LEVEL = 6  # gzip's own default: level 9 costs ~3x the time for ~1-2% smaller parts

PartSink = Callable[[bytes | bytearray, int], None]  # (gzip bytes of a finished part, data rows in it)


def gzip_member(data: bytes) -> bytes:
    # mtime=0 so the same rows always give the same bytes (and sha256) in every run.
    return gzip.compress(data, compresslevel=COMPRESS_LEVEL, mtime=0)


class PartPacker:
    """Packs rendered batches into parts of at most `max_bytes` gzip bytes, each starting with `header`.

    The one exception: a single row that alone (with the header) exceeds the limit is written as a
    part of its own, since a row cannot be split across parts.
    """

    def __init__(self, header: bytes, max_bytes: int, sink: PartSink) -> None:
        self._header_member = gzip_member(header)
        if len(self._header_member) >= max_bytes:
            raise ValueError(
                f"max_part_bytes={max_bytes} leaves no room for rows: the compressed header alone "
                f"takes {len(self._header_member)} bytes"
            )
        self._max_bytes = max_bytes
        self._sink = sink
        self._data = bytearray(self._header_member)
        self._rows = 0
        self._parts = 0

    def add(self, rendered: pa.Table) -> None:
        """Append a batch of rendered rows (Arrow string columns)."""
        if rendered.num_rows == 0:
            return
        member = gzip_member(csv_bytes(rendered))
        if not self._fits(member) and self._rows:
            self._flush()
        if self._fits(member) or rendered.num_rows == 1:
            self._data += member
            self._rows += rendered.num_rows
            if not self._fits(b""):  # an oversized single row: keep it alone in its part
                self._flush()
            return
        half = rendered.num_rows // 2  # too big even for an empty part: split and retry
        self.add(rendered.slice(0, half))
        self.add(rendered.slice(half))

    def close(self) -> None:
        """Emit the last part; a table with no rows still gets one part holding the header."""
        if self._rows or not self._parts:
            self._flush()

    def _fits(self, member: bytes) -> bool:
        return len(self._data) + len(member) <= self._max_bytes

    def _flush(self) -> None:
        self._sink(self._data, self._rows)  # handed over, not copied: a new buffer starts below
        self._parts += 1
        self._data = bytearray(self._header_member)
        self._rows = 0
