"""Ordered commits: phases of positional writes, each phase complete before the next begins."""

from __future__ import annotations

from collections.abc import Sequence
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


def apply_phases(
    handle: FileHandle, phases: Sequence[Sequence[Write]], durability: Durability
) -> None:
    """Write ``phases`` in order: data first, then what points at it, each write one pwrite."""
    for phase in phases:
        if not phase:
            continue
        for address, data in phase:
            handle.pwrite(address, data)
        if durability is Durability.FLUSH:
            handle.sync()
