"""Positional reads from an open binary file object: a file the caller opened, ``io.BytesIO``,
or an fsspec file (HTTP, S3, ...), so ``h5swmr.File`` reads a remote file by range requests
without downloading it whole. fsspec is never imported here: any object with ``seek``, ``tell``
and ``read`` will do.
"""

from __future__ import annotations

import io
import os
import threading
from typing import Protocol


class BinaryReadable(Protocol):
    def seek(self, offset: int, whence: int = ..., /) -> int: ...

    def tell(self) -> int: ...

    def read(self, size: int = ..., /) -> bytes: ...


class StreamHandle:
    """The read side of ``storage.file.FileHandle`` over a file object: ``pread`` is a seek and
    a read under a lock (the object has one position). The caller's object is never closed by
    the reader, as h5py leaves a file-like object it was given open."""

    __slots__ = ("_closed", "_lock", "_stream", "path", "physical_size")

    def __init__(self, stream: BinaryReadable, path: str) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._closed = False
        self.path = path
        self.physical_size = self.current_size()

    @classmethod
    def of(cls, stream: BinaryReadable) -> StreamHandle:
        """A handle named after the stream's ``path`` (fsspec) or ``name`` (an open file)."""
        name = getattr(stream, "path", None) or getattr(stream, "name", None)
        full = getattr(stream, "full_name", None)  # fsspec: the URL it was opened from
        if isinstance(full, str):
            name = full
        if isinstance(name, bytes | os.PathLike):
            name = os.fsdecode(name)
        return cls(stream, name if isinstance(name, str) else f"<{type(stream).__name__}>")

    @property
    def closed(self) -> bool:
        return self._closed or bool(getattr(self._stream, "closed", False))

    def close(self) -> None:
        self._closed = True

    def current_size(self) -> int:
        size = getattr(self._stream, "size", None)  # fsspec files know it without a seek
        if isinstance(size, int):
            return size
        with self._lock:
            here = self._stream.tell()
            end = self._stream.seek(0, io.SEEK_END)
            self._stream.seek(here)
        return int(end)

    def pread(self, address: int, size: int) -> bytes:
        if size <= 0:
            return b""
        with self._lock:
            self._stream.seek(address)
            return bytes(self._stream.read(size))

    def pread_into(self, address: int, out: memoryview) -> int:
        data = self.pread(address, out.nbytes)
        out[: len(data)] = data
        return len(data)
