"""`LocalDestination`: the export in a local folder (the demo default, and tests)."""

from __future__ import annotations

import builtins
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from hubspot_pipeline.store.destination import Destination, ObjectInfo
from hubspot_pipeline.store.keys import check_key

_TEMP_PREFIX, _TEMP_SUFFIX = ".", ".tmp"  # in-flight writes; never listed


class LocalDestination(Destination):
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).absolute()

    def put_bytes(self, key: str, data: bytes | bytearray) -> None:
        self._replace_atomically(key, lambda out: out.write(data))

    def put_file(self, key: str, path: str | os.PathLike[str]) -> None:
        with open(path, "rb") as src:
            self._replace_atomically(key, lambda out: shutil.copyfileobj(src, out, 1024 * 1024))

    def get_bytes(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def open_read(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def list(self, prefix: str = "") -> builtins.list[ObjectInfo]:
        if ".." in prefix.split("/"):
            raise ValueError(f"invalid prefix {prefix!r}")
        # Walk only the folder the prefix points into, then filter by the plain string prefix.
        folder = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        found = []
        for dirpath, _dirnames, filenames in os.walk(folder):
            for name in filenames:
                if name.startswith(_TEMP_PREFIX) and name.endswith(_TEMP_SUFFIX):
                    continue
                path = Path(dirpath, name)
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(ObjectInfo(key=key, size=path.stat().st_size))
        return sorted(found, key=lambda info: info.key)

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def url_for(self, key: str) -> str:
        return self._path(key).as_uri()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _replace_atomically(self, key: str, write: Callable[[BinaryIO], object]) -> None:
        """Write to a temp file beside the target, then rename: readers never see a partial object."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX)
        try:
            os.fchmod(fd, 0o644)  # mkstemp makes 0600; exported files are meant to be read by others
            with os.fdopen(fd, "wb") as out:
                write(out)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def __repr__(self) -> str:
        return f"LocalDestination({str(self.root)!r})"
