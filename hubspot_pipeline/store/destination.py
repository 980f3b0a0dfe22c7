"""The `Destination` protocol: the few object-store operations writers, readers and the index need."""

from __future__ import annotations

import builtins
import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from hubspot_pipeline.store.csv_format import Column
from hubspot_pipeline.store.table_writer import DEFAULT_MAX_PART_BYTES, TableWriter


@dataclass(frozen=True)
class ObjectInfo:
    key: str  # relative to the destination's prefix
    size: int


class Destination(Protocol):
    """An object store rooted at a prefix; every key is relative to that prefix and uses '/'.

    Implementations subclass this protocol explicitly to inherit `table_writer`.
    """

    def put_bytes(self, key: str, data: bytes | bytearray) -> None:
        """Write an object whole; readers see the old object or the new one, never a mix."""
        ...

    def put_file(self, key: str, path: str | os.PathLike[str]) -> None:
        """Upload a local file (multipart on S3 when big)."""
        ...

    def get_bytes(self, key: str) -> bytes | None:
        """The object's bytes, or None when it does not exist."""
        ...

    def open_read(self, key: str) -> BinaryIO:
        """A streaming binary reader (use it as a context manager); FileNotFoundError when missing."""
        ...

    def list(self, prefix: str = "") -> builtins.list[ObjectInfo]:
        """Objects whose key starts with `prefix` (a plain string prefix), sorted by key."""
        ...

    def delete(self, keys: Iterable[str]) -> None:
        """Delete objects; keys that do not exist are ignored."""
        ...

    def exists(self, key: str) -> bool: ...

    def url_for(self, key: str) -> str:
        """A URL naming the object for people and logs (s3://... or file://...)."""
        ...

    def table_writer(
        self,
        day: str,
        table: str,
        columns: Sequence[Column],
        *,
        run_id: str,
        account_id: str | int,
        as_of: dt.datetime,
        max_part_bytes: int = DEFAULT_MAX_PART_BYTES,
        notes: Sequence[str] = (),
    ) -> TableWriter:
        """A context manager writing `<day>/<table>/` as gzip-CSV parts plus `_manifest.json`."""
        return TableWriter(
            self,
            day,
            table,
            columns,
            run_id=run_id,
            account_id=account_id,
            as_of=as_of,
            max_part_bytes=max_part_bytes,
            notes=notes,
        )
