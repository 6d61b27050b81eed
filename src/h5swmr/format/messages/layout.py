"""Data layout message, type 0x0008 (spec §IV.A.2.i; libhdf5 H5Olayout.c H5O__layout_encode).

h5swmr writes chunked layouts as version 4 (never 5: HDF5 1.14 and older reject it), with
dimensionality rank + 1 (the last "dimension" is the element size) and the narrowest
dimension-size width over all rank + 1 values, which HDF5 2.0 insists on. Version 3 chunked
layouts (v1 B-tree index) and contiguous/compact layouts of versions 3-5 are decoded by
``decode_layout`` for the reader.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Self, TypeAlias

from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.constants import (
    UNDEFINED_ADDRESS,
    ChunkIndexType,
    MessageFlags,
    MessageType,
)
from h5swmr.format.cursor import ByteCursor, BytesLike
from h5swmr.format.extensible_array.params import ExtensibleArrayParams

_WHAT = "layout message"
_HEADER = struct.Struct("<BB")  # version, layout class
_V4_CHUNKED = struct.Struct("<BBB")  # flags, dimensionality, dimension-size width
_EA_PARAMS = struct.Struct("<5B")
_BTREE_PARAMS = struct.Struct("<IBB")  # node size, split %, merge %
_SINGLE_FILTERED = struct.Struct("<QI")  # filtered chunk size (L), filter mask
_ADDRESS = struct.Struct("<Q")
_CONTIGUOUS = struct.Struct("<QQ")  # address (O), size (L)
MAX_RANK = 32
CHUNK_FLAG_DONT_FILTER_PARTIAL = 0x01
CHUNK_FLAG_SINGLE_INDEX_WITH_FILTER = 0x02
_KNOWN_CHUNK_FLAGS = 0x03
_MAX_CHUNK_BYTES = 1 << 32


class LayoutClass(IntEnum):
    COMPACT = 0
    CONTIGUOUS = 1
    CHUNKED = 2
    VIRTUAL = 3


def _error(message: str) -> FormatError:
    return FormatError(f"{_WHAT}: {message}", structure=_WHAT)


def dim_size_width(values: tuple[int, ...]) -> int:
    """Bytes per encoded chunk dimension: the fewest holding every value (H5D__chunk_set_sizes)."""
    return max(1, *((v.bit_length() + 7) // 8 for v in values))


@dataclass(frozen=True, slots=True)
class ChunkedLayoutMessage:
    """Chunked storage: chunk dims (without the element size), index type and its parameters.

    Index parameters: ``ea_params`` (extensible array; defaults when None),
    ``fixed_array_page_bits``,
    ``btree_node_size``/``btree_split_percent``/``btree_merge_percent`` (v2 B-tree),
    ``single_chunk_size``/``single_chunk_filter_mask`` (single chunk with flags bit 1).
    ``version`` is 4; 3 (with a v1 B-tree index) and 5 come only from decoding.
    """

    TYPE: ClassVar[MessageType] = MessageType.LAYOUT
    FLAGS: ClassVar[MessageFlags] = MessageFlags.NONE
    VERSION: ClassVar[int] = 4

    chunk_dims: tuple[int, ...]
    element_size: int
    index_type: ChunkIndexType
    index_address: int = UNDEFINED_ADDRESS
    ea_params: ExtensibleArrayParams | None = None
    flags: int = 0
    fixed_array_page_bits: int = 10
    btree_node_size: int = 2048
    btree_split_percent: int = 100
    btree_merge_percent: int = 40
    single_chunk_size: int = 0
    single_chunk_filter_mask: int = 0
    version: int = VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "chunk_dims", tuple(self.chunk_dims))
        try:
            object.__setattr__(self, "index_type", ChunkIndexType(self.index_type))
        except ValueError as exc:
            raise _error(f"index type {self.index_type}") from exc
        is_ea = self.index_type == ChunkIndexType.EXTENSIBLE_ARRAY
        if is_ea and self.ea_params is None:
            object.__setattr__(self, "ea_params", ExtensibleArrayParams())
        if not is_ea and self.ea_params is not None:
            raise _error(f"ea_params given for index type {self.index_type.name}")
        dims = (*self.chunk_dims, self.element_size)
        if not 1 <= len(self.chunk_dims) <= MAX_RANK or any(d < 1 for d in dims):
            raise _error(f"chunk dims {self.chunk_dims}, element size {self.element_size}")
        if math.prod(dims) >= _MAX_CHUNK_BYTES:
            raise _error(f"chunk of {math.prod(dims)} bytes; must be below 4 GiB")
        if self.version not in (3, 4, 5) or (self.version == 3) != (
            self.index_type == ChunkIndexType.BTREE_V1
        ):
            raise _error(f"version {self.version} with index type {self.index_type.name}")
        if self.flags & ~_KNOWN_CHUNK_FLAGS or (
            self.flags & CHUNK_FLAG_SINGLE_INDEX_WITH_FILTER
            and self.index_type != ChunkIndexType.SINGLE_CHUNK
        ):
            raise _error(f"chunk flags {self.flags:#x} with index {self.index_type.name}")
        if not (
            0 <= self.index_address < 1 << 64
            and 0 < self.fixed_array_page_bits < 1 << 8
            and 0 < self.btree_node_size < 1 << 32
            and 0 < self.btree_split_percent <= 100
            and 0 <= self.btree_merge_percent <= 100
            and 0 <= self.single_chunk_size < 1 << 64
            and 0 <= self.single_chunk_filter_mask < 1 << 32
        ):
            raise _error(f"index parameter out of range in {self}")

    @property
    def rank(self) -> int:
        return len(self.chunk_dims)

    @property
    def chunk_nbytes(self) -> int:
        """Bytes of one uncompressed chunk."""
        return math.prod(self.chunk_dims) * self.element_size

    @property
    def size(self) -> int:
        return len(self.encode())

    def encode(self) -> bytes:
        dims = (*self.chunk_dims, self.element_size)
        if self.version == 3:
            head = _HEADER.pack(3, LayoutClass.CHUNKED) + bytes([len(dims)])
            return head + _ADDRESS.pack(self.index_address) + struct.pack(f"<{len(dims)}I", *dims)
        if self.version != self.VERSION:
            raise UnsupportedError(f"{_WHAT}: h5swmr writes layout version 4, not {self.version}")
        width = dim_size_width(dims)
        parts = [
            _HEADER.pack(self.VERSION, LayoutClass.CHUNKED),
            _V4_CHUNKED.pack(self.flags, len(dims), width),
            b"".join(d.to_bytes(width, "little") for d in dims),
            bytes([self.index_type]),
            self._index_parameters(),
            _ADDRESS.pack(self.index_address),
        ]
        return b"".join(parts)

    def _index_parameters(self) -> bytes:
        kind = self.index_type
        if kind == ChunkIndexType.EXTENSIBLE_ARRAY and self.ea_params is not None:
            p = self.ea_params
            return _EA_PARAMS.pack(
                p.max_nelmts_bits,
                p.idx_blk_elmts,
                p.sup_blk_min_data_ptrs,
                p.data_blk_min_elmts,
                p.max_dblk_page_nelmts_bits,
            )
        if kind == ChunkIndexType.FIXED_ARRAY:
            return bytes([self.fixed_array_page_bits])
        if kind == ChunkIndexType.BTREE_V2:
            return _BTREE_PARAMS.pack(
                self.btree_node_size, self.btree_split_percent, self.btree_merge_percent
            )
        if kind == ChunkIndexType.SINGLE_CHUNK and self.flags & CHUNK_FLAG_SINGLE_INDEX_WITH_FILTER:
            return _SINGLE_FILTERED.pack(self.single_chunk_size, self.single_chunk_filter_mask)
        return b""

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        message = decode_layout(buf)
        if not isinstance(message, cls):
            raise FormatError(f"{_WHAT}: {type(message).__name__}, not chunked", structure=_WHAT)
        return message


def _decode_chunked(cur: ByteCursor, version: int) -> ChunkedLayoutMessage:
    if version == 3:
        ndims = cur.u8()
        address = cur.u64()
        if not 2 <= ndims <= MAX_RANK + 1:
            raise _error(f"dimensionality {ndims}")
        dims = tuple(cur.u32() for _ in range(ndims))
        return ChunkedLayoutMessage(
            dims[:-1], dims[-1], ChunkIndexType.BTREE_V1, address, version=3
        )
    flags, ndims, width = cur.unpack(_V4_CHUNKED)
    if not 2 <= ndims <= MAX_RANK + 1 or not 1 <= width <= 8:
        raise _error(f"dimensionality {ndims}, dimension-size width {width}")
    dims = tuple(cur.uint(width) for _ in range(ndims))
    raw_index = cur.u8()
    try:
        index_type = ChunkIndexType(raw_index)
    except ValueError:
        raise _error(f"chunk index type {raw_index}") from None
    extra: dict[str, int] = {}
    ea_params = None
    if index_type == ChunkIndexType.EXTENSIBLE_ARRAY:
        ea_params = ExtensibleArrayParams(*cur.unpack(_EA_PARAMS))
    elif index_type == ChunkIndexType.FIXED_ARRAY:
        extra["fixed_array_page_bits"] = cur.u8()
    elif index_type == ChunkIndexType.BTREE_V2:
        node, split, merge = cur.unpack(_BTREE_PARAMS)
        extra.update(btree_node_size=node, btree_split_percent=split, btree_merge_percent=merge)
    elif index_type == ChunkIndexType.SINGLE_CHUNK and flags & CHUNK_FLAG_SINGLE_INDEX_WITH_FILTER:
        size, mask = cur.unpack(_SINGLE_FILTERED)
        extra.update(single_chunk_size=size, single_chunk_filter_mask=mask)
    address = cur.u64()
    return ChunkedLayoutMessage(
        dims[:-1], dims[-1], index_type, address, ea_params, flags, version=version, **extra
    )


@dataclass(frozen=True, slots=True)
class ContiguousLayoutMessage:
    """Contiguous storage: the data's address (UNDEF until allocated) and size in bytes."""

    TYPE: ClassVar[MessageType] = MessageType.LAYOUT
    FLAGS: ClassVar[MessageFlags] = MessageFlags.NONE
    VERSION: ClassVar[int] = 3

    address: int
    size: int

    def __post_init__(self) -> None:
        if not (0 <= self.address < 1 << 64 and 0 <= self.size < 1 << 64):
            raise _error(f"contiguous address {self.address}, size {self.size}")

    def encode(self) -> bytes:
        return _HEADER.pack(self.VERSION, LayoutClass.CONTIGUOUS) + _CONTIGUOUS.pack(
            self.address, self.size
        )

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        message = decode_layout(buf)
        if not isinstance(message, cls):
            raise FormatError(f"{_WHAT}: {type(message).__name__}, not contiguous")
        return message


@dataclass(frozen=True, slots=True)
class CompactLayoutMessage:
    """Compact storage: the raw data inside the message (under 64 KiB)."""

    TYPE: ClassVar[MessageType] = MessageType.LAYOUT
    FLAGS: ClassVar[MessageFlags] = MessageFlags.NONE
    VERSION: ClassVar[int] = 3

    data: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", bytes(self.data))
        if len(self.data) > 0xFFFF:
            raise _error(f"compact data of {len(self.data)} bytes")

    def encode(self) -> bytes:
        head = _HEADER.pack(self.VERSION, LayoutClass.COMPACT)
        return head + struct.pack("<H", len(self.data)) + self.data

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        message = decode_layout(buf)
        if not isinstance(message, cls):
            raise FormatError(f"{_WHAT}: {type(message).__name__}, not compact")
        return message


LayoutMessage: TypeAlias = ChunkedLayoutMessage | ContiguousLayoutMessage | CompactLayoutMessage


def decode_layout(buf: BytesLike) -> LayoutMessage:
    """Decode a layout message of version 3, 4 or 5 into the class of its layout."""
    cur = ByteCursor(buf, _WHAT)
    version, raw_class = cur.unpack(_HEADER)
    if version in (1, 2):
        raise UnsupportedError(f"{_WHAT}: version {version} layouts are not supported")
    if version not in (3, 4, 5):
        raise _error(f"version {version}")
    if raw_class == LayoutClass.CHUNKED:
        return _decode_chunked(cur, version)
    if raw_class == LayoutClass.CONTIGUOUS:
        return ContiguousLayoutMessage(*cur.unpack(_CONTIGUOUS))
    if raw_class == LayoutClass.COMPACT:
        return CompactLayoutMessage(cur.read(cur.u16()))
    if raw_class == LayoutClass.VIRTUAL:
        raise UnsupportedError(f"{_WHAT}: virtual datasets are not supported")
    raise _error(f"layout class {raw_class}")
