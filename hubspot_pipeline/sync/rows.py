"""What a row-shaped snapshot source returns: a schema and the record batches, streamed page by page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa


@dataclass
class Rows:
    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]
