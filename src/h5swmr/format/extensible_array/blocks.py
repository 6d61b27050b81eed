"""Encoders and decoders of the extensible array's blocks: EAHD, EAIB, EASB, EADB and pages.

Every block is checksummed; a paged data block checksums its prefix and each page on its own.
Decoders take the creation parameters and element size the layout message and header give.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FormatError
from h5swmr.format.checksum import reseal, seal, verified
from h5swmr.format.constants import CHECKSUM_SIZE, SIZE_OF_OFFSETS, UNDEFINED_ADDRESS
from h5swmr.format.cursor import ByteCursor, BytesLike
from h5swmr.format.extensible_array.params import ExtensibleArrayParams, SuperBlockInfo

HEADER_SIGNATURE = b"EAHD"
INDEX_BLOCK_SIGNATURE = b"EAIB"
SUPER_BLOCK_SIGNATURE = b"EASB"
DATA_BLOCK_SIGNATURE = b"EADB"
VERSION = 0

_HEADER = struct.Struct("<4sBBBBBBBB6QQ")
_BLOCK_START = struct.Struct("<4sBBQ")  # signature, version, client id, header address
_ADDRESSES = struct.Struct("<Q")
_STATISTICS = struct.Struct("<7Q")  # the header's block statistics .. index block address


def _check_start(cur: ByteCursor, signature: bytes, what: str) -> tuple[int, int]:
    sig, version, client_id, header_address = cur.unpack(_BLOCK_START)
    if sig != signature or version != VERSION or client_id > 1:  # type: ignore[comparison-overlap]
        raise FormatError(
            f"{what}: signature {sig!r}, version {version}, client {client_id}", structure=what
        )
    return client_id, header_address


@dataclass(frozen=True, slots=True)
class ExtensibleArrayHeader:
    """EAHD: parameters, statistics and the index block address; 72 bytes that never move.

    ``max_index_set`` is the index's commit point: a reader never looks at elements at or above it.
    """

    SIZE: ClassVar[int] = _HEADER.size + CHECKSUM_SIZE
    STATISTICS_OFFSET: ClassVar[int] = _HEADER.size - _STATISTICS.size
    """Where the statistics start (12): after signature, version, client id, element size and
    the five creation parameters; seven 8-byte fields follow, the index block address last."""

    client_id: int
    element_size: int
    params: ExtensibleArrayParams
    n_super_blocks: int = 0
    super_block_bytes: int = 0
    n_data_blocks: int = 0
    data_block_bytes: int = 0
    max_index_set: int = 0
    n_elements_realized: int = 0
    index_block_address: int = UNDEFINED_ADDRESS

    def encode(self) -> bytes:
        p = self.params
        return seal(
            _HEADER.pack(
                HEADER_SIGNATURE,
                VERSION,
                self.client_id,
                self.element_size,
                p.max_nelmts_bits,
                p.idx_blk_elmts,
                p.data_blk_min_elmts,  # header order differs from the layout message's
                p.sup_blk_min_data_ptrs,
                p.max_dblk_page_nelmts_bits,
                self.n_super_blocks,
                self.super_block_bytes,
                self.n_data_blocks,
                self.data_block_bytes,
                self.max_index_set,
                self.n_elements_realized,
                self.index_block_address,
            )
        )

    @classmethod
    def decode(cls, buf: BytesLike, *, address: int | None = None) -> Self:
        what = "extensible array header"
        body = verified(ByteCursor(buf, what).read(cls.SIZE), what=what, address=address)
        (sig, version, client, es, bits, idx, dblk_min, sblk_min, page_bits, *stats) = (
            _HEADER.unpack(body)
        )
        if sig != HEADER_SIGNATURE or version != VERSION or client > 1:
            raise FormatError(f"{what}: {sig!r} v{version} client {client}", structure=what)
        params = ExtensibleArrayParams(bits, idx, sblk_min, dblk_min, page_bits)
        return cls(client, es, params, *stats)


def patch_header_statistics(image: bytearray, statistics: Sequence[int]) -> None:
    """Rewrite the statistics of an encoded EA header in place and reseal it: the bytes then equal
    ``ExtensibleArrayHeader(...).encode()`` with those values (a commit changes nothing else).

    ``statistics`` in header order: super blocks and their bytes, data blocks and their bytes,
    max index set, elements realized, index block address."""
    _STATISTICS.pack_into(image, ExtensibleArrayHeader.STATISTICS_OFFSET, *statistics)
    reseal(image)


def index_block_size(params: ExtensibleArrayParams, element_size: int) -> int:
    return (
        _BLOCK_START.size
        + params.idx_blk_elmts * element_size
        + SIZE_OF_OFFSETS
        * (params.index_block_data_block_addresses + params.index_block_super_block_addresses)
        + CHECKSUM_SIZE
    )


@dataclass(frozen=True, slots=True)
class IndexBlock:
    """EAIB: the first elements, then the data blocks of the first super blocks, then the rest's
    super block addresses."""

    client_id: int
    header_address: int
    elements: bytes
    data_block_addresses: tuple[int, ...]
    super_block_addresses: tuple[int, ...]

    def encode(self) -> bytes:
        addresses = self.data_block_addresses + self.super_block_addresses
        return seal(
            _BLOCK_START.pack(INDEX_BLOCK_SIGNATURE, VERSION, self.client_id, self.header_address)
            + self.elements
            + struct.pack(f"<{len(addresses)}Q", *addresses)
        )

    @classmethod
    def decode(
        cls,
        buf: BytesLike,
        params: ExtensibleArrayParams,
        element_size: int,
        *,
        address: int | None = None,
    ) -> Self:
        what = "extensible array index block"
        size = index_block_size(params, element_size)
        body = verified(ByteCursor(buf, what).read(size), what=what, address=address)
        cur = ByteCursor(body, what)
        client_id, header_address = _check_start(cur, INDEX_BLOCK_SIGNATURE, what)
        elements = cur.read(params.idx_blk_elmts * element_size)
        n_dblk = params.index_block_data_block_addresses
        n_sblk = params.index_block_super_block_addresses
        data_blocks = tuple(cur.u64() for _ in range(n_dblk))
        super_blocks = tuple(cur.u64() for _ in range(n_sblk))
        return cls(client_id, header_address, elements, data_blocks, super_blocks)


def page_bitmap_size(params: ExtensibleArrayParams, info: SuperBlockInfo) -> int:
    """Bytes of a super block's page-init bitmap: one bit per page of each paged data block."""
    pages = params.pages_per_data_block(info)
    return info.n_data_blocks * ((pages + 7) // 8) if pages else 0


def super_block_size(params: ExtensibleArrayParams, info: SuperBlockInfo) -> int:
    return (
        _BLOCK_START.size
        + params.array_offset_size
        + page_bitmap_size(params, info)
        + SIZE_OF_OFFSETS * info.n_data_blocks
        + CHECKSUM_SIZE
    )


@dataclass(frozen=True, slots=True)
class SuperBlock:
    """EASB: the addresses of one super block's data blocks, and which of their pages exist.

    The page-init bitmap is most-significant-bit first over the whole array (H5VM_bit_set):
    bit number ``data_block * pages_per_block + page``.
    """

    client_id: int
    header_address: int
    block_offset: int
    page_bitmap: bytes
    data_block_addresses: tuple[int, ...]

    def encode(self, params: ExtensibleArrayParams) -> bytes:
        n = len(self.data_block_addresses)
        return seal(
            _BLOCK_START.pack(SUPER_BLOCK_SIGNATURE, VERSION, self.client_id, self.header_address)
            + self.block_offset.to_bytes(params.array_offset_size, "little")
            + self.page_bitmap
            + struct.pack(f"<{n}Q", *self.data_block_addresses)
        )

    @classmethod
    def decode(
        cls,
        buf: BytesLike,
        params: ExtensibleArrayParams,
        info: SuperBlockInfo,
        *,
        address: int | None = None,
    ) -> Self:
        what = "extensible array super block"
        size = super_block_size(params, info)
        body = verified(ByteCursor(buf, what).read(size), what=what, address=address)
        cur = ByteCursor(body, what)
        client_id, header_address = _check_start(cur, SUPER_BLOCK_SIGNATURE, what)
        block_offset = cur.uint(params.array_offset_size)
        bitmap = cur.read(page_bitmap_size(params, info))
        addresses = tuple(cur.u64() for _ in range(info.n_data_blocks))
        return cls(client_id, header_address, block_offset, bitmap, addresses)


def is_page_initialised(bitmap: BytesLike, bit: int) -> bool:
    return bool(bitmap[bit // 8] & (0x80 >> (bit % 8)))


def set_page_initialised(bitmap: bytearray, bit: int) -> None:
    bitmap[bit // 8] |= 0x80 >> (bit % 8)


def data_block_prefix_size(params: ExtensibleArrayParams) -> int:
    """Signature to block offset: the part before the elements (or before the pages)."""
    return _BLOCK_START.size + params.array_offset_size


def page_size(params: ExtensibleArrayParams, element_size: int) -> int:
    return params.page_elements * element_size + CHECKSUM_SIZE


def data_block_size(params: ExtensibleArrayParams, info: SuperBlockInfo, element_size: int) -> int:
    """Bytes allocated for a data block, its pages included (libhdf5's data-block statistic)."""
    prefix = data_block_prefix_size(params) + CHECKSUM_SIZE
    pages = params.pages_per_data_block(info)
    if pages:
        return prefix + pages * page_size(params, element_size)
    return prefix + info.data_block_elements * element_size


def unpaged_data_block_size(
    params: ExtensibleArrayParams, n_elements: int, element_size: int
) -> int:
    """Bytes of an unpaged data block of ``n_elements``: prefix, elements and checksum."""
    return data_block_prefix_size(params) + n_elements * element_size + CHECKSUM_SIZE


def page_address(
    params: ExtensibleArrayParams, data_block_address: int, page: int, element_size: int
) -> int:
    return (
        data_block_address
        + data_block_prefix_size(params)
        + CHECKSUM_SIZE
        + page * page_size(params, element_size)
    )


@dataclass(frozen=True, slots=True)
class DataBlock:
    """EADB: a run of elements. A paged data block holds only this prefix; its pages follow it."""

    client_id: int
    header_address: int
    block_offset: int
    elements: bytes
    """The elements of an unpaged block; empty for a paged one."""

    def encode(self, params: ExtensibleArrayParams) -> bytes:
        return seal(
            _BLOCK_START.pack(DATA_BLOCK_SIGNATURE, VERSION, self.client_id, self.header_address)
            + self.block_offset.to_bytes(params.array_offset_size, "little")
            + self.elements
        )

    @classmethod
    def decode(
        cls,
        buf: BytesLike,
        params: ExtensibleArrayParams,
        info: SuperBlockInfo,
        element_size: int,
        *,
        address: int | None = None,
    ) -> Self:
        what = "extensible array data block"
        n_elements = 0 if params.is_paged(info) else info.data_block_elements
        size = data_block_prefix_size(params) + n_elements * element_size + CHECKSUM_SIZE
        body = verified(ByteCursor(buf, what).read(size), what=what, address=address)
        cur = ByteCursor(body, what)
        client_id, header_address = _check_start(cur, DATA_BLOCK_SIGNATURE, what)
        block_offset = cur.uint(params.array_offset_size)
        return cls(client_id, header_address, block_offset, cur.read(n_elements * element_size))


def encode_page(elements: BytesLike) -> bytes:
    """A data block page: its elements and their checksum, no signature."""
    return seal(elements)


def decode_page(
    buf: BytesLike, params: ExtensibleArrayParams, element_size: int, *, address: int | None = None
) -> bytes:
    what = "extensible array data block page"
    block = ByteCursor(buf, what).read(page_size(params, element_size))
    return bytes(verified(block, what=what, address=address))
