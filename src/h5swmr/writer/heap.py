"""Variable-length strings into global heap collections, for string attributes and datasets.

A string's reference (collection address, object index) is needed when its attribute or dataset
is encoded, so collections are placed as soon as a string needs one, and filled with the strings
that follow until the structure is next published. Publishing writes each collection once and
closes it: a collection a reader may have read is never written again (nothing is checksummed
in a collection, so a rewrite could be read torn). Many short strings (NX_class, units) share
one 4 KiB collection, as they do in files libhdf5 writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from h5swmr.format.global_heap import (
    MIN_COLLECTION_SIZE,
    GlobalHeapCollection,
    VariableLengthReference,
    object_size,
)
from h5swmr.storage.allocator import EofAllocator
from h5swmr.storage.commit import Write

MAX_OBJECTS = 0xFFFF
"""Object indices are 16-bit in a collection (index 0 is its free space)."""
COLLECTION_TARGET_SIZE = 1 << 20
"""A new collection for many strings is sized for them up to this; a longer string gets one of
its own. libhdf5 reads a collection whole, so very large ones would be read for one string."""


@dataclass(slots=True)
class _OpenCollection:
    address: int
    size: int
    datas: list[bytes] = field(default_factory=list)
    used: int = GlobalHeapCollection.HEADER_SIZE

    def fits(self, obj_size: int) -> bool:
        return len(self.datas) < MAX_OBJECTS and self.used + obj_size <= self.size

    def encode(self) -> bytes:
        return GlobalHeapCollection.encode_numbered(self.datas, self.size)


class GlobalHeapWriter:
    """Stores byte strings in collections placed by ``allocator``; ``take_writes`` hands over
    the collections to write at the next publish."""

    def __init__(self, allocator: EofAllocator) -> None:
        self._allocator = allocator
        self._open: _OpenCollection | None = None
        self._closed: list[Write] = []

    def store(self, items: Sequence[bytes]) -> bytes:
        """The encoded references of ``items``, in order (``VariableLengthReference`` each);
        every item gets an object, the empty one too, as libhdf5 does."""
        lengths, addresses, indices = [], [], []
        current = self._open
        for position, item in enumerate(items):
            size = object_size(len(item))
            if current is None or not current.fits(size):
                current = self._start(size, items[position + 1 :])
            current.datas.append(item)
            current.used += size
            lengths.append(len(item))
            addresses.append(current.address)
            indices.append(len(current.datas))
        return VariableLengthReference.encode_many(lengths, addresses, indices)

    def _start(self, first_size: int, rest: Sequence[bytes]) -> _OpenCollection:
        """Close the open collection and place a new one sized for ``first_size`` and as many
        of ``rest`` as fit COLLECTION_TARGET_SIZE."""
        self._close()
        needed = GlobalHeapCollection.HEADER_SIZE + first_size
        count = 1
        for item in rest:
            size = object_size(len(item))
            if count >= MAX_OBJECTS or needed + size > COLLECTION_TARGET_SIZE:
                break
            needed += size
            count += 1
        # room for a free-space object header, so the tail is never a bare gap
        size = max(MIN_COLLECTION_SIZE, needed + GlobalHeapCollection.HEADER_SIZE)
        self._open = _OpenCollection(self._allocator.allocate(size), size)
        return self._open

    def _close(self) -> None:
        if self._open is not None:
            self._closed.append((self._open.address, self._open.encode()))
            self._open = None

    def take_writes(self) -> list[Write]:
        """Every collection placed since the last call, closed: written before anything that
        refers to them."""
        self._close()
        writes, self._closed = self._closed, []
        return writes
