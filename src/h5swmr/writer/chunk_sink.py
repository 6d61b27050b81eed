"""Where chunk bytes go: placed at fresh addresses, filtered on the pool, written by storage.

Datasets decide what a chunk holds and where its record goes; they never hold the file. They hand
a chunk here: unfiltered bytes with the address they were given (``allocate_each``, ``write_at``)
or at a fresh one (``place``), filtered ones with a ``ChunkSlot`` naming the index element that
will point at them (``filter``). The bytes reach the file through storage's ``OrderedWriter``,
which also writes every commit, so chunk data is on disk before any index block, header or
superblock that points at it (writer/commit.py says the order of a commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.chunk_records import ChunkRecord
from h5swmr.storage.allocator import EofAllocator
from h5swmr.storage.commit import OrderedWriter
from h5swmr.storage.file import Buffer
from h5swmr.writer.cut_ahead import CutAhead
from h5swmr.writer.encoder import ChunkEncoder


class ChunkIndexBuilder(Protocol):
    """What a filtered chunk's record is handed to: a writer-side chunk index."""

    def set(self, index: int, record: ChunkRecord) -> None: ...


@dataclass(frozen=True, slots=True)
class ChunkSlot:
    """Element ``element`` of ``index``: where the record of a chunk being filtered goes."""

    index: ChunkIndexBuilder
    element: int


class ChunkSink:
    """The chunk path of one writer, shared by all its datasets: allocator, filter pool, the
    helper thread that tiles frames, and the storage writer the bytes go through."""

    __slots__ = ("_out", "allocator", "cut_ahead", "encoder")

    def __init__(
        self, out: OrderedWriter, allocator: EofAllocator, *, workers: int, cut_ahead: CutAhead
    ) -> None:
        self.allocator = allocator
        self.cut_ahead = cut_ahead
        self.encoder: ChunkEncoder[ChunkSlot] = ChunkEncoder(workers, self._deliver)
        self._out = out

    def place(self, data: Buffer) -> int:
        """Write ``data`` at a fresh address, and return it."""
        address = self.allocator.allocate(len(data))
        self._out.write(address, data)
        return address

    def write_at(self, address: int, data: Buffer) -> None:
        """Write chunk bytes to space the dataset was given (``allocator.allocate_each``)."""
        self._out.write(address, data)

    def filter(
        self,
        pipeline: FilterPipeline,
        chunk: np.ndarray,
        element_size: int,
        slot: ChunkSlot,
        *,
        borrowed: bool = False,
    ) -> None:
        """Filter ``chunk`` on the pool; the result is placed, in submission order, and its
        record set in ``slot``. The caller must not change ``chunk`` afterwards, unless it is
        ``borrowed`` (the application's array): then it is not read once this call returns."""
        self.encoder.submit(pipeline, chunk, element_size, slot, borrowed=borrowed)

    def _deliver(self, slot: ChunkSlot, data: bytes, filter_mask: int) -> None:
        slot.index.set(slot.element, ChunkRecord(self.place(data), len(data), filter_mask))

    def close(self) -> None:
        """Stop the pool and the helper thread (queued chunks are dropped)."""
        self.encoder.shutdown()
        self.cut_ahead.close()
