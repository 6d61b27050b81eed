"""Bounded, retried reads of metadata blocks from one file.

Every size read from the file is checked against the file's size before anything is allocated,
and every checksummed block is decoded in a short retry loop: a SWMR writer rewrites some
blocks in place, so a read that races it may see a torn block once. A block that stays bad after
the last attempt raises ChecksumError: never a hang (libhdf5 backs off over 100 attempts).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final, Protocol, TypeVar

from h5swmr.errors import ChecksumError, TruncatedError
from h5swmr.storage.file import FileHandle
from h5swmr.storage.locking import FileLocking, lock

T = TypeVar("T")

log = logging.getLogger(__name__)

READ_ATTEMPTS: Final = 6
"""Tries per checksummed block; the sleeps between them double from FIRST_SLEEP (31 ms in all)."""
FIRST_SLEEP: Final = 0.001


class ReadHandle(Protocol):
    """What FileSource reads through: ``storage.file.FileHandle`` (a path), or a handle over an
    open file object (reader/streams.py)."""

    path: str
    physical_size: int

    @property
    def closed(self) -> bool: ...

    def close(self) -> None: ...

    def current_size(self) -> int: ...

    def pread(self, address: int, size: int) -> bytes: ...

    def pread_into(self, address: int, out: memoryview) -> int: ...


class FileSource:
    """Positional reads from an HDF5 file opened read-only, never past its physical end.

    Addresses are relative to the HDF5 data's base: a file with a user block (some bytes of the
    user's own before the superblock) has its superblock and every address after it, and
    ``size`` counts from there.
    """

    __slots__ = ("_base", "_handle", "attempts", "size")

    def __init__(self, handle: ReadHandle, *, attempts: int = READ_ATTEMPTS) -> None:
        self._handle = handle
        self._base = 0
        self.size = handle.physical_size
        self.attempts = attempts

    def rebase(self, base: int) -> None:
        """Count addresses from ``base`` (the superblock's position) from now on."""
        self.size += self._base - base
        self._base = base

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> FileSource:
        """Open ``path`` read-only under a shared lock, as libhdf5's readers do (H5F_open locks
        with ``rw`` false and keeps the lock until close): a file a non-SWMR writer holds
        exclusively is refused with FileLockedError, while SWMR writers (libhdf5's drop their
        lock, h5swmr's keep a shared one) are read live. ``HDF5_USE_FILE_LOCKING`` is honoured,
        best effort by default."""
        handle = FileHandle.open(os.fspath(path), writable=False)
        try:
            lock(handle.fd, handle.path, FileLocking.from_environment(), exclusive=False)
        except BaseException:
            handle.close()
            raise
        return cls(handle)

    @property
    def path(self) -> str:
        return self._handle.path

    @property
    def closed(self) -> bool:
        return self._handle.closed

    def close(self) -> None:
        self._handle.close()

    def replaced(self) -> bool:
        """Whether the path now names another file than the one open (a master rewritten and
        renamed over the old one, as a rollover does); False if the path is gone or the file
        is an object the caller opened."""
        if not isinstance(self._handle, FileHandle):
            return False
        try:
            now = Path(self.path).stat()
        except OSError:
            return False
        mine = os.fstat(self._handle.fd)
        return (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino)

    def update_size(self) -> int:
        """Re-read the file's size (it grows while a writer appends)."""
        self.size = max(self.size, self._handle.current_size() - self._base)
        return self.size

    def check(self, address: int, size: int, what: str) -> None:
        """TruncatedError unless ``size`` bytes at ``address`` lie inside the file."""
        if size < 0 or address < 0 or address + size > self.size:
            self.update_size()
            if size < 0 or address < 0 or address + size > self.size:
                raise TruncatedError(
                    f"{what}: {size} bytes at address {address} run past the end of "
                    f"{self.path!r} ({self.size} bytes)",
                    structure=what,
                    address=address,
                )

    def read(self, address: int, size: int, what: str) -> bytes:
        """Exactly ``size`` bytes at ``address``, or TruncatedError."""
        self.check(address, size, what)
        data = self._handle.pread(self._base + address, size)
        if len(data) != size:
            raise TruncatedError(
                f"{what}: read {len(data)} of {size} bytes at address {address}",
                structure=what,
                address=address,
            )
        return data

    def read_upto(self, address: int, size: int, what: str) -> bytes:
        """Up to ``size`` bytes at ``address`` (fewer at the end of the file), at least one."""
        self.check(address, 1, what)
        return self._handle.pread(self._base + address, min(size, self.size - address))

    def retried(self, load: Callable[[], T], what: str) -> T:
        """``load()``, tried again after a ChecksumError a few times with short sleeps."""
        delay = FIRST_SLEEP
        for attempt in range(1, self.attempts + 1):
            try:
                return load()
            except ChecksumError:
                if attempt == self.attempts:
                    raise
                log.debug("%s: bad checksum, attempt %d of %d", what, attempt, self.attempts)
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def block(self, address: int, size: int, decode: Callable[[bytes], T], what: str) -> T:
        """Read ``size`` bytes at ``address`` and decode them, retrying torn reads."""
        return self.retried(lambda: decode(self.read(address, size, what)), what)

    def read_padded(self, address: int, size: int, what: str) -> bytes:
        """``size`` bytes at ``address``; bytes past the end of the file read as zeros.

        An unfiltered chunk is indexed when its first frame is written, before the rest of it
        exists (libhdf5's sec2 driver reads zeros there too). ``address`` must be in the file.
        """
        self.check(address, min(size, 1), what)
        data = self._handle.pread(self._base + address, min(size, self.size - address))
        return data if len(data) == size else data + bytes(size - len(data))

    def read_into(self, address: int, out: memoryview, what: str) -> None:
        """Fill ``out`` with the bytes at ``address``; bytes past the end of the file are zeros.

        Straight into the caller's buffer, with no intermediate bytes object.
        """
        self.check(address, min(out.nbytes, 1), what)
        done = self._handle.pread_into(self._base + address, out)
        if done < out.nbytes:
            out[done:] = bytes(out.nbytes - done)
