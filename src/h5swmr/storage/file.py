"""One file descriptor with positional reads and writes, truncation and syncing."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import NoReturn, TypeAlias

from h5swmr.errors import StorageError

if sys.platform != "win32":
    import resource

Buffer: TypeAlias = bytes | bytearray | memoryview


def file_size_limit() -> int | None:
    """The largest file this process may write (the soft RLIMIT_FSIZE), None if unlimited.

    Past it a write fails with EFBIG, or the process gets SIGXFSZ: space reserved ahead of the
    data must stay below it."""
    if sys.platform == "win32":
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    return None if soft == resource.RLIM_INFINITY else soft


class FileHandle:
    """An unbuffered file: each write is one ``pwrite`` at an absolute address.

    Writes go straight to the OS page cache, so readers in other processes see them in the order
    they were made (POSIX read-after-write), which is what SWMR relies on.
    """

    __slots__ = ("_fd", "path", "physical_size")

    def __init__(self, fd: int, path: str) -> None:
        self._fd = fd
        self.path = path
        self.physical_size = os.fstat(fd).st_size

    @classmethod
    def open(cls, path: str, *, writable: bool = True, create: bool = False) -> FileHandle:
        flags = os.O_RDWR if writable else os.O_RDONLY
        if create:
            flags |= os.O_CREAT
        flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(path, flags, 0o666)
        except OSError as exc:
            raise StorageError(exc.errno, f"cannot open: {exc.strerror}", path) from exc
        return cls(fd, path)

    @property
    def fd(self) -> int:
        if self._fd < 0:
            raise StorageError(f"{self.path!r} is closed")  # errno None: not the OS's verdict
        return self._fd

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def pwrite(self, address: int, data: Buffer) -> None:
        """Write all of ``data`` at ``address``; short writes are continued, failures raised.

        The common case is one ``os.pwrite`` of the whole buffer; only a short write (a signal, a
        full disk) takes the slow path that continues where the kernel stopped.
        """
        try:
            written = os.pwrite(self._fd, data, address)
        except OSError as exc:
            self._write_failed(exc, address, data)
        size = data.nbytes if type(data) is memoryview else len(data)
        if written != size:
            self._finish_write(address, data, written)
        end = address + size
        if end > self.physical_size:  # noqa: PLR1730 - not max(): several times a frame
            self.physical_size = end

    def grew_to(self, end: int) -> None:
        """Bytes up to ``end`` were written through another descriptor (``DirectWriter``)."""
        if end > self.physical_size:  # noqa: PLR1730 - as in pwrite
            self.physical_size = end

    def pwrite_each(self, writes: Sequence[tuple[int, Buffer]]) -> None:
        """``pwrite`` of each ``(address, data)`` in turn: the writes of one commit phase, in one
        call (several times a frame; only a short write leaves the loop for the slow path)."""
        fd = self._fd
        pwrite = os.pwrite
        end = self.physical_size
        for address, data in writes:
            try:
                written = pwrite(fd, data, address)
            except OSError as exc:
                self._write_failed(exc, address, data)
            size = data.nbytes if type(data) is memoryview else len(data)
            if written != size:
                self._finish_write(address, data, written)
            if address + size > end:  # noqa: PLR1730 - not max(): several times a frame
                end = address + size
        self.physical_size = end

    def _finish_write(self, address: int, data: Buffer, written: int) -> None:
        view = memoryview(data).cast("B")
        fd = self.fd
        try:
            while written < len(view):
                written += os.pwrite(fd, view[written:], address + written)
        except OSError as exc:
            self._write_failed(exc, address, data)

    def _write_failed(self, exc: OSError, address: int, data: Buffer) -> NoReturn:
        if self._fd < 0:
            raise StorageError(f"{self.path!r} is closed") from exc
        size = memoryview(data).nbytes
        raise StorageError(
            exc.errno,
            f"writing {size} bytes at address {address}: {exc.strerror}",
            self.path,
        ) from exc

    def pread(self, address: int, size: int) -> bytes:
        fd = self.fd
        try:
            return os.pread(fd, size, address)
        except OSError as exc:
            raise StorageError(
                exc.errno, f"reading {size} bytes at {address}: {exc.strerror}", self.path
            ) from exc

    def current_size(self) -> int:
        """The file's size now, as another process may have grown or cut it.

        An ``lseek`` to the end: the same size ``fstat`` gives, without building a stat result
        (a writer asks before every commit). The descriptor's offset is free to move: every
        read and write here is positional."""
        try:
            return os.lseek(self.fd, 0, os.SEEK_END)
        except OSError as exc:
            raise StorageError(exc.errno, f"size of {self.path!r}: {exc.strerror}") from exc

    def size_and_head(self, count: int) -> tuple[int, bytes]:
        """The file's size now (``current_size``) and its first ``count`` bytes (fewer if it is
        shorter): what a writer checks before every commit, in one call."""
        fd = self._fd
        try:
            size = os.lseek(fd, 0, os.SEEK_END)
            return size, os.pread(fd, count, 0) if size else b""
        except OSError as exc:
            if fd < 0:
                raise StorageError(f"{self.path!r} is closed") from exc
            raise StorageError(exc.errno, f"size of {self.path!r}: {exc.strerror}") from exc

    def pread_into(self, address: int, out: memoryview) -> int:
        """Fill ``out`` from ``address`` with as few ``preadv`` calls as it takes, no copy; returns
        the bytes read (fewer than asked only at the end of the file)."""
        fd = self.fd
        done = 0
        while done < out.nbytes:
            try:
                n = os.preadv(fd, [out[done:]], address + done)
            except OSError as exc:
                raise StorageError(
                    exc.errno, f"reading {out.nbytes} bytes at {address} of {self.path!r}"
                ) from exc
            if n <= 0:
                break
            done += n
        return done

    def truncate(self, size: int) -> None:
        fd = self.fd
        try:
            os.ftruncate(fd, size)
        except OSError as exc:
            raise StorageError(
                exc.errno, f"resizing to {size} bytes: {exc.strerror}", self.path
            ) from exc
        self.physical_size = size

    def sync(self) -> None:
        """Push written data to the device (fdatasync where the OS has it)."""
        fd = self.fd
        try:
            getattr(os, "fdatasync", os.fsync)(fd)
        except OSError as exc:
            raise StorageError(exc.errno, f"syncing: {exc.strerror}", self.path) from exc

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)
