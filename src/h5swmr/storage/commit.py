"""Ordered commits: phases of positional writes, each phase complete before the next begins.

Chunk data is written as it comes, commits phase by phase; ``OrderedWriter`` does both, so
it is the one place bytes reach the file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum

from h5swmr.storage.direct import DirectWriter
from h5swmr.storage.file import Buffer, FileHandle

Write = tuple[int, Buffer]
"""An absolute address and the bytes that go there."""


class Durability(Enum):
    """When the writer asks the OS to push data to the device.

    NONE is libhdf5's behaviour: a killed process loses nothing that was written, because the
    page cache keeps it; a power loss or kernel crash may lose or reorder recent writes.
    FLUSH syncs between the phases of every commit, so even after a power loss the file never
    points at data that did not reach the device. CLOSE syncs once, when the file is closed.
    """

    NONE = "none"
    FLUSH = "flush"
    CLOSE = "close"


class OrderedWriter:
    """Every byte a writer puts in its file goes through here: chunk data as soon as it has an
    address (``write``), then each commit's phases in order (``commit``), syncing between them
    as the durability asks. The one caller of ``FileHandle.pwrite``: what reaches the file, and
    in which order, is read in one class.
    """

    __slots__ = ("_direct", "_handle", "durability", "write")

    def __init__(self, handle: FileHandle, durability: Durability = Durability.NONE) -> None:
        self._handle = handle
        self.durability = durability
        self._direct: DirectWriter | None = None
        self.write: Callable[[int, Buffer], None] = handle.pwrite
        """One pwrite, now: chunk data as it is placed, a superblock at close or recover (direct
        writes still in flight are never under it: their pages are their own). The handle's own
        method, not a wrapper: chunk data takes this path once a frame."""

    def use_direct_io(self, refused: Callable[[str], None]) -> None:
        """Write blocks given to ``write_block`` with ``O_DIRECT`` from now on; where the file
        system does not take it, ``refused(reason)`` is called (now, or at the first block) and
        blocks are written buffered."""
        self._direct = DirectWriter.open(self._handle.path, self._handle.pwrite, refused)

    @property
    def direct(self) -> bool:
        """Whether ``write_block`` bypasses the page cache."""
        return self._direct is not None and self._direct.active

    def write_block(self, address: int, data: Buffer) -> None:
        """Chunk data in space of its own from ``EofAllocator.allocate_pages``: with direct I/O
        on, copied to an aligned buffer and written from there with zeros to the page's end,
        by the time the next ``commit`` or ``sync`` writes anything; else as ``write``."""
        direct = self._direct
        if direct is None or not direct.active:
            self._handle.pwrite(address, data)
            return
        self._handle.grew_to(direct.write(address, data))

    def commit(self, phases: Sequence[list[Write]]) -> None:
        """Write ``phases`` in order: data first, then what points at it, each write one
        pwrite; each phase is emptied once written (its buffers are free to change again).
        With ``Durability.FLUSH`` the chunk data written before is synced first, and each
        phase after it is written."""
        if self._direct is not None:
            self._direct.drain()  # chunk bytes in the file before anything points at them
        if self.durability is Durability.FLUSH:
            self._commit_synced(phases)
            return
        pwrite_each = self._handle.pwrite_each
        for phase in filter(None, phases):  # most commits fill two or three of them
            pwrite_each(phase)
            phase.clear()

    def _commit_synced(self, phases: Sequence[list[Write]]) -> None:
        self._handle.sync()  # chunk bytes before anything that points at them
        for phase in phases:
            if not phase:
                continue
            self._handle.pwrite_each(phase)
            phase.clear()
            self._handle.sync()

    def sync(self) -> None:
        if self._direct is not None:
            self._direct.drain()
        self._handle.sync()

    def close(self) -> None:
        """Close the direct descriptor, if any (the file handle is its owner's to close)."""
        if self._direct is not None:
            self._direct.close()
