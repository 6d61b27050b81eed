"""Fractal heaps, enough to read the link and attribute messages of dense storage (spec §III.G;
libhdf5 H5HFcache.c, H5HFhdr.c, H5HFdtable.c, H5HFman.c, H5HFhuge.c).

- FRHP header: sizes, the doubling table (width, starting and maximum direct block size, maximum
  heap size in bits, root block address and its current number of rows), checksum.
- FHDB direct block: ``FHDB``, version 0, header address (O), block offset, [checksum], objects.
- FHIB indirect block: ``FHIB``, version 0, header address, block offset, child block addresses
  (direct rows first, then indirect rows), checksum.
- Heap IDs: byte 0 = version (bits 6-7) and type (bits 4-5: 0 managed, 1 huge, 2 tiny); a managed
  ID then holds the object's heap offset and length; a tiny ID holds the object itself. A huge
  object lies outside the heap's blocks: when the ID has room (ID length - 1 >= 16) it holds the
  object's file address and length, otherwise a key (ID length - 1 bytes, at most 8) into the
  heap's v2 B-tree of huge objects (records of type 1: address, length, key).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FormatError, TruncatedError, UnsupportedError
from h5swmr.format.checksum import verified
from h5swmr.format.constants import CHECKSUM_SIZE, UNDEFINED_ADDRESS
from h5swmr.format.cursor import ByteCursor, BytesLike

HEADER_SIGNATURE = b"FRHP"
DIRECT_SIGNATURE = b"FHDB"
INDIRECT_SIGNATURE = b"FHIB"
_HEADER = struct.Struct("<4sBHHBIQQQQQQQQQQQQHQQHHQH")
_FLAG_DIRECT_CHECKSUM = 0x02
_MANAGED, _HUGE, _TINY = 0, 1, 2
_WHAT = "fractal heap"


def _bytes_for_bits(bits: int) -> int:
    return (bits + 7) // 8


@dataclass(frozen=True, slots=True)
class FractalHeapHeader:
    """The fields of FRHP a reader of managed and tiny objects needs."""

    SIZE: ClassVar[int] = _HEADER.size + CHECKSUM_SIZE

    id_length: int
    flags: int
    max_managed_size: int
    table_width: int
    start_block_size: int
    max_direct_size: int
    max_heap_bits: int
    root_address: int
    root_rows: int
    huge_btree_address: int = UNDEFINED_ADDRESS

    @property
    def offset_size(self) -> int:
        return _bytes_for_bits(self.max_heap_bits)

    @property
    def length_size(self) -> int:
        direct = _bytes_for_bits(self.max_direct_size.bit_length() - 1)
        return min(direct, (max(self.max_managed_size, 1).bit_length() - 1) // 8 + 1)

    @property
    def direct_prefix_size(self) -> int:
        checksum = CHECKSUM_SIZE if self.flags & _FLAG_DIRECT_CHECKSUM else 0
        return 4 + 1 + 8 + self.offset_size + checksum

    def row_block_size(self, row: int) -> int:
        return self.start_block_size * (1 << max(0, row - 1))

    @property
    def direct_rows(self) -> int:
        """Rows of an indirect block whose children are direct blocks."""
        return (self.max_direct_size.bit_length() - self.start_block_size.bit_length()) + 2

    def indirect_rows(self, block_size: int) -> int:
        """Rows of a child indirect block that spans ``block_size`` bytes of the heap."""
        first_row = self.start_block_size.bit_length() + self.table_width.bit_length() - 2
        return block_size.bit_length() - 1 - first_row + 1

    @property
    def huge_ids_direct(self) -> bool:
        """A huge object's ID holds its address and length (else a key into the B-tree)."""
        return self.id_length - 1 >= 8 + 8

    @classmethod
    def decode(cls, buf: BytesLike, *, address: int | None = None) -> Self:
        body = verified(ByteCursor(buf, _WHAT).read(cls.SIZE), what=_WHAT, address=address)
        fields = _HEADER.unpack(body)
        sig, version, id_len, filter_len, flags, max_managed, _, huge_btree = fields[:8]
        width, start, max_direct, max_bits, _, root, rows = fields[18:]
        if sig != HEADER_SIGNATURE or version != 0:
            raise FormatError(f"{_WHAT}: {sig!r} v{version}", structure=_WHAT, address=address)
        if filter_len:
            raise UnsupportedError(f"{_WHAT}: filtered heaps are not supported")
        power = all(n > 0 and n & (n - 1) == 0 for n in (start, max_direct))
        if not (power and width and start <= max_direct and 0 < max_bits <= 64 and id_len):
            raise FormatError(f"{_WHAT}: doubling table {width}x{start}..{max_direct}")
        if width & (width - 1):
            raise FormatError(f"{_WHAT}: table width {width} is not a power of two")
        return cls(
            id_len, flags, max_managed, width, start, max_direct, max_bits, root, rows, huge_btree
        )


@dataclass(frozen=True, slots=True)
class HeapId:
    """A decoded heap ID: a managed object's (offset, length), a tiny object's bytes, or where a
    huge object is."""

    offset: int = 0
    length: int = 0
    tiny: bytes | None = None
    huge: bool = False
    """For a huge object, ``offset`` and ``length`` are its file address and size, or ``key``
    says where the heap's huge-object B-tree has them."""
    key: int | None = None

    @classmethod
    def decode(cls, buf: BytesLike, header: FractalHeapHeader) -> Self:
        cur = ByteCursor(buf, "fractal heap ID")
        flags = cur.u8()
        kind = (flags >> 4) & 0x03
        if flags >> 6:
            raise FormatError(f"fractal heap ID: version {flags >> 6}")
        if kind == _MANAGED:
            return cls(cur.uint(header.offset_size), cur.uint(header.length_size))
        if kind == _TINY:
            return cls(tiny=cur.read((flags & 0x0F) + 1))
        if kind == _HUGE:
            if header.huge_ids_direct:
                return cls(cur.u64(), cur.u64(), huge=True)
            return cls(huge=True, key=cur.uint(min(header.id_length - 1, 8)))
        raise FormatError(f"fractal heap ID: type {kind}")


@dataclass(frozen=True, slots=True)
class IndirectBlock:
    """FHIB: the addresses of its children, row by row (direct rows only are decoded)."""

    block_offset: int
    children: tuple[int, ...]

    @staticmethod
    def size(header: FractalHeapHeader, rows: int) -> int:
        return 4 + 1 + 8 + header.offset_size + rows * header.table_width * 8 + CHECKSUM_SIZE

    @classmethod
    def decode(
        cls, buf: BytesLike, header: FractalHeapHeader, rows: int, *, address: int | None = None
    ) -> Self:
        what = "fractal heap indirect block"
        size = cls.size(header, rows)
        body = verified(ByteCursor(buf, what).read(size), what=what, address=address)
        cur = ByteCursor(body, what)
        if cur.read(4) != INDIRECT_SIGNATURE or cur.u8() != 0:
            raise FormatError(f"{what}: bad signature or version", structure=what, address=address)
        cur.skip(8)
        offset = cur.uint(header.offset_size)
        return cls(offset, tuple(cur.u64() for _ in range(rows * header.table_width)))


def check_direct_block(buf: BytesLike, header: FractalHeapHeader, *, address: int) -> None:
    """FormatError (or ChecksumError) unless ``buf`` is a sound direct block.

    The checksum (over the whole block, its own field zeroed) is checked first, as libhdf5's
    metadata cache does: a torn or flipped block is a ChecksumError whatever byte changed.
    """
    what = "fractal heap direct block"
    if len(buf) < header.direct_prefix_size:
        raise TruncatedError(
            f"{what}: {len(buf)} bytes, shorter than its prefix", structure=what, address=address
        )
    if header.flags & _FLAG_DIRECT_CHECKSUM:
        prefix = header.direct_prefix_size - CHECKSUM_SIZE
        whole = bytearray(buf)
        stored = bytes(whole[prefix : prefix + CHECKSUM_SIZE])
        whole[prefix : prefix + CHECKSUM_SIZE] = bytes(CHECKSUM_SIZE)
        verified(whole + stored, what=what, address=address)
    if bytes(buf[:4]) != DIRECT_SIGNATURE or buf[4] != 0:
        raise FormatError(f"{what}: bad signature or version", structure=what, address=address)
