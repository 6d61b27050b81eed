"""Where a chunk is (ChunkRecord) and how the array indexes store it (spec App. C "Data Block
Element"; libhdf5 H5Dearray.c, H5Dfarray.c).

Every chunk index yields ChunkRecords: the extensible and fixed arrays (whose elements
ElementCodec encodes), the v1 and v2 B-trees and the single-chunk and implicit indexes. In an
array element, unfiltered chunks store only their address; filtered chunks also store their size
on disk, in a width that depends on the uncompressed chunk size, and the mask of skipped filters.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from h5swmr.errors import FormatError
from h5swmr.format.constants import SIZE_OF_OFFSETS, UNDEFINED_ADDRESS
from h5swmr.format.cursor import BytesLike

_ADDRESS = struct.Struct("<Q")
_MASK = struct.Struct("<I")
ADDRESS_SIZE: Final = _ADDRESS.size
"""Bytes of an unfiltered chunk's element: its address alone."""
pack_address_into: Final = _ADDRESS.pack_into
"""``pack_address_into(buffer, offset, address)`` stores an unfiltered chunk's element in place:
``encode_address`` without making bytes, for a writer that keeps its index block in memory."""
MAX_CHUNK_BYTES = 0xFFFF_FFFF
"""libhdf5 refuses chunks of 4 GiB or more."""


def chunk_size_width(chunk_bytes: int) -> int:
    """Bytes used to store a filtered chunk's size in a layout v4 index (H5D__chunk_set_sizes).

    One byte more than the uncompressed chunk size needs, so a filter may grow a chunk a little.
    """
    if not 0 < chunk_bytes <= MAX_CHUNK_BYTES:
        raise FormatError(f"chunk of {chunk_bytes} bytes: must be 1 byte to 4 GiB - 1")
    return min(1 + (chunk_bytes.bit_length() - 1 + 8) // 8, 8)


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """Where one chunk is: address, and for filtered chunks its stored size and filter mask."""

    address: int = UNDEFINED_ADDRESS
    size: int = 0
    filter_mask: int = 0

    @property
    def is_allocated(self) -> bool:
        return self.address != UNDEFINED_ADDRESS


@dataclass(frozen=True, slots=True)
class ElementCodec:
    """Encodes ChunkRecords as the fixed-size elements of one dataset's index."""

    filtered: bool
    size_width: int = 0
    """Width of the chunk-size field; only for filtered chunks."""

    @classmethod
    def for_chunks(cls, chunk_bytes: int, *, filtered: bool) -> ElementCodec:
        return cls(filtered, chunk_size_width(chunk_bytes) if filtered else 0)

    @property
    def client_id(self) -> int:
        """0 for unfiltered, 1 for filtered chunks: the EA class id stored in every block."""
        return 1 if self.filtered else 0

    @property
    def element_size(self) -> int:
        return SIZE_OF_OFFSETS + (self.size_width + _MASK.size if self.filtered else 0)

    @property
    def fill(self) -> bytes:
        """The element of a chunk that was never written: undefined address, size 0, mask 0."""
        return self.encode(ChunkRecord())

    def encode(self, record: ChunkRecord) -> bytes:
        address = _ADDRESS.pack(record.address)
        if not self.filtered:
            return address
        if record.size >= 1 << (8 * self.size_width):
            raise FormatError(
                f"chunk of {record.size} bytes does not fit the index's "
                f"{self.size_width}-byte size field"
            )
        size = record.size.to_bytes(self.size_width, "little")
        return address + size + _MASK.pack(record.filter_mask)

    def encode_address(self, address: int) -> bytes:
        """The element of an unfiltered chunk at ``address`` (``encode`` without a record)."""
        return _ADDRESS.pack(address)

    def encode_addresses(self, addresses: Sequence[int]) -> bytes:
        """The elements of unfiltered chunks at ``addresses``, packed in one call."""
        if self.filtered:
            raise FormatError("filtered chunks need their size and filter mask")
        return struct.pack(f"<{len(addresses)}Q", *addresses)

    def decode(self, buf: BytesLike) -> ChunkRecord:
        if len(buf) < self.element_size:
            raise FormatError(f"chunk index element: {len(buf)} bytes, need {self.element_size}")
        address = _ADDRESS.unpack_from(buf)[0]
        if not self.filtered:
            return ChunkRecord(address)
        end = SIZE_OF_OFFSETS + self.size_width
        size = int.from_bytes(buf[SIZE_OF_OFFSETS:end], "little")
        return ChunkRecord(address, size, _MASK.unpack_from(buf, end)[0])


def element_addresses(
    elements: bytes | None, count: int, element_size: int, valid: int
) -> np.ndarray:
    """The chunk addresses (the first 8 bytes of each element) of ``count`` index elements, as a
    writable uint64 array; UNDEFINED_ADDRESS for all of them when ``elements`` is None, and from
    position ``valid`` on (elements past the array's max index set)."""
    if elements is None:
        return np.full(count, UNDEFINED_ADDRESS, np.uint64)
    if len(elements) < count * element_size:
        raise FormatError(f"chunk index: {len(elements)} bytes for {count} elements")
    record = np.dtype({"names": ["address"], "formats": ["<u8"], "itemsize": element_size})
    addresses = np.frombuffer(elements, record, count=count)["address"].astype(np.uint64)
    if valid < count:
        addresses[max(valid, 0) :] = UNDEFINED_ADDRESS
    return addresses
