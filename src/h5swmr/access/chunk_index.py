"""Chunk indexes of every kind behind one lookup: chunk's scaled coordinates -> ChunkRecord.

Scaled coordinates are the chunk's position in the chunk grid (element offset // chunk dim).
The extensible and fixed arrays are addressed by a row-major linear index over the grid of
*maximum* chunk counts, the unlimited dimension moved first (H5VM_swizzle_coords); the B-trees
store the scaled coordinates in their records.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol

import numpy as np

from h5swmr.access.btree_v1 import btree_v1_chunk_records
from h5swmr.access.btree_v2 import chunk_records
from h5swmr.access.extensible_array import ExtensibleArrayLookup
from h5swmr.access.fixed_array import FixedArrayLookup
from h5swmr.access.source import FileSource
from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.chunk_records import ChunkRecord
from h5swmr.format.constants import UNDEFINED_ADDRESS, UNLIMITED, ChunkIndexType
from h5swmr.format.messages.layout import CHUNK_FLAG_SINGLE_INDEX_WITH_FILTER, ChunkedLayoutMessage

Scaled = tuple[int, ...]


class ChunkIndex(Protocol):
    def lookup(self, scaled: Scaled) -> ChunkRecord | None: ...


class LinearIndex(Protocol):
    def lookup(self, index: int) -> ChunkRecord | None: ...

    def address_run(self, index: int) -> tuple[int, np.ndarray]: ...


def row_addresses(index: ChunkIndex, row: int, rank: int) -> tuple[int, np.ndarray]:
    """(first row, chunk addresses) of a run of chunk rows around chunk row ``row`` (scaled
    coordinates ``(row, 0, ..., 0)``): a whole index block or page when the index stores those
    chunks next to one another, else just ``row``. UNDEFINED_ADDRESS where no chunk is."""
    if isinstance(index, ArrayChunkIndex) and index.rows_are_consecutive:
        return index.array.address_run(row)
    record = index.lookup((row, *(0,) * (rank - 1)))
    address = UNDEFINED_ADDRESS if record is None else record.address
    return row, np.full(1, address, np.uint64)


def max_chunk_counts(
    layout: ChunkedLayoutMessage, dims: tuple[int, ...], maxdims: tuple[int, ...]
) -> tuple[int, ...]:
    """Chunks along each dimension at the maximum size (the current size where unlimited)."""
    return tuple(
        -(-(d if m == UNLIMITED else m) // c)
        for d, m, c in zip(dims, maxdims, layout.chunk_dims, strict=True)
    )


class ArrayChunkIndex:
    """An extensible or fixed array: scaled coordinates -> linear index -> element."""

    def __init__(self, array: LinearIndex, counts: tuple[int, ...], unlimited: int | None) -> None:
        self.array = array
        self._order = tuple(range(len(counts)))
        if unlimited is not None:
            self._order = (unlimited, *(d for d in self._order if d != unlimited))
        ordered = [counts[d] for d in self._order]
        self._strides = tuple(math.prod(ordered[i + 1 :]) for i in range(len(ordered)))

    def lookup(self, scaled: Scaled) -> ChunkRecord | None:
        index = sum(scaled[d] * s for d, s in zip(self._order, self._strides, strict=True))
        return self.array.lookup(index)

    @property
    def rows_are_consecutive(self) -> bool:
        """Chunk rows (k, 0, ..., 0) have linear indexes k: one chunk across the other dims."""
        return self._order[0] == 0 and self._strides[0] == 1


class SingleChunkIndex:
    """The whole dataset in one chunk (layout v4 index type 1)."""

    def __init__(self, record: ChunkRecord | None) -> None:
        self._record = record

    def lookup(self, scaled: Scaled) -> ChunkRecord | None:
        return self._record if not any(scaled) else None


class ImplicitChunkIndex:
    """Chunks allocated early, one after another in row-major order (layout v4 index type 2)."""

    def __init__(self, address: int, counts: tuple[int, ...], chunk_nbytes: int) -> None:
        self._address = address
        self._strides = tuple(math.prod(counts[i + 1 :]) for i in range(len(counts)))
        self._nbytes = chunk_nbytes

    def lookup(self, scaled: Scaled) -> ChunkRecord | None:
        if self._address == UNDEFINED_ADDRESS:
            return None
        index = sum(s * k for s, k in zip(scaled, self._strides, strict=True))
        return ChunkRecord(self._address + index * self._nbytes)


class MappingChunkIndex:
    """Records keyed by scaled coordinates, as the B-tree indexes yield them."""

    def __init__(self, records: Mapping[Scaled, ChunkRecord]) -> None:
        self._records = records

    def lookup(self, scaled: Scaled) -> ChunkRecord | None:
        return self._records.get(scaled)


def open_chunk_index(
    src: FileSource,
    layout: ChunkedLayoutMessage,
    dims: tuple[int, ...],
    maxdims: tuple[int, ...],
    *,
    filtered: bool,
) -> ChunkIndex:
    """The chunk index a layout message describes, its header read now (one snapshot)."""
    if len(dims) != layout.rank:
        raise FormatError(f"layout of rank {layout.rank} for a dataset of rank {len(dims)}")
    kind = layout.index_type
    address = layout.index_address
    counts = max_chunk_counts(layout, dims, maxdims)
    if kind == ChunkIndexType.SINGLE_CHUNK:
        record = None
        if address != UNDEFINED_ADDRESS:
            if layout.flags & CHUNK_FLAG_SINGLE_INDEX_WITH_FILTER:
                record = ChunkRecord(
                    address, layout.single_chunk_size, layout.single_chunk_filter_mask
                )
            else:
                record = ChunkRecord(address, layout.chunk_nbytes)
        return SingleChunkIndex(record)
    if kind == ChunkIndexType.IMPLICIT:
        return ImplicitChunkIndex(address, counts, layout.chunk_nbytes)
    if address == UNDEFINED_ADDRESS:
        return MappingChunkIndex({})
    if kind == ChunkIndexType.EXTENSIBLE_ARRAY:
        unlimited = [i for i, m in enumerate(maxdims) if m == UNLIMITED]
        if len(unlimited) != 1:
            raise FormatError(f"extensible array index with unlimited dims {unlimited}")
        return ArrayChunkIndex(ExtensibleArrayLookup(src, address), counts, unlimited[0])
    return _open_other(src, layout, kind, counts, filtered=filtered)


def _open_other(
    src: FileSource,
    layout: ChunkedLayoutMessage,
    kind: ChunkIndexType,
    counts: tuple[int, ...],
    *,
    filtered: bool,
) -> ChunkIndex:
    if kind == ChunkIndexType.FIXED_ARRAY:
        return ArrayChunkIndex(FixedArrayLookup(src, layout.index_address), counts, None)
    if kind == ChunkIndexType.BTREE_V2:
        return MappingChunkIndex(chunk_records(src, layout.index_address, layout.rank))
    if kind == ChunkIndexType.BTREE_V1:
        return MappingChunkIndex(
            btree_v1_chunk_records(src, layout.index_address, layout.chunk_dims, filtered=filtered)
        )
    raise UnsupportedError(f"chunk index {kind.name} is not supported")
