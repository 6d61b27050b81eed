"""Ordered commits: phases of positional writes, each phase complete before the next begins.

Chunk data is written as it comes, commits phase by phase; ``OrderedWriter`` does both, so
it is the one place bytes reach the file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum

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

    __slots__ = ("_handle", "durability", "write")

    def __init__(self, handle: FileHandle, durability: Durability = Durability.NONE) -> None:
        self._handle = handle
        self.durability = durability
        self.write: Callable[[int, Buffer], None] = handle.pwrite
        """One pwrite, now: chunk data as it is placed, a superblock at close or recover. The
        handle's own method, not a wrapper: chunk data takes this path once a frame."""

    def commit(self, phases: Sequence[list[Write]]) -> None:
        """Write ``phases`` in order: data first, then what points at it, each write one
        pwrite; each phase is emptied once written (its buffers are free to change again).
        With ``Durability.FLUSH`` the chunk data written before is synced first, and each
        phase after it is written."""
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
        self._handle.sync()
