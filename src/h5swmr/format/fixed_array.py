"""The fixed array that indexes the chunks of a dataset without unlimited dimensions.

Spec App. C / §VII.C; libhdf5 H5FApkg.h, H5FAcache.c, H5FAdblock.c, H5FAdblkpage.c, H5Dfarray.c.

- FAHD: ``FAHD``, version 0, client id (0 unfiltered, 1 filtered), element size, max data-block
  page element bits, number of elements (L), data block address (O), checksum; 28 bytes.
- FADB: ``FADB``, version 0, client id, header address (O), then either the elements, or (when
  there are more elements than one page holds) a page-init bitmap, MSB first; checksum.
  Pages follow a paged block's prefix, each with its elements and its own checksum; the last
  page may be short.

Encoders and decoders come in pairs; the encoders write what libhdf5 writes, byte for byte, so a
writer can keep a fixed array in memory and seal each block or page as it commits it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FormatError
from h5swmr.format.checksum import seal, verified
from h5swmr.format.constants import CHECKSUM_SIZE
from h5swmr.format.cursor import ByteCursor, BytesLike

HEADER_SIGNATURE = b"FAHD"
DATA_BLOCK_SIGNATURE = b"FADB"
VERSION = 0
_HEADER = struct.Struct("<4sBBBBQQ")
_BLOCK_START = struct.Struct("<4sBBQ")


@dataclass(frozen=True, slots=True)
class FixedArrayHeader:
    """FAHD: element size, paging and the number of elements (one per chunk of the max grid)."""

    SIZE: ClassVar[int] = _HEADER.size + CHECKSUM_SIZE

    client_id: int
    element_size: int
    page_bits: int
    n_elements: int
    data_block_address: int

    @property
    def page_elements(self) -> int:
        return 1 << self.page_bits

    @property
    def n_pages(self) -> int:
        """Pages of the data block; 0 when it is not paged."""
        if self.n_elements <= self.page_elements:
            return 0
        return -(-self.n_elements // self.page_elements)

    @property
    def page_bitmap_size(self) -> int:
        """Bytes of a paged data block's page-init bitmap; 0 when it is not paged."""
        return (self.n_pages + 7) // 8

    @property
    def data_block_size(self) -> int:
        """Bytes the whole data block takes, its pages included (what libhdf5 allocates)."""
        if not self.n_pages:
            return self.data_block_prefix_size
        pages = self.n_elements * self.element_size + self.n_pages * CHECKSUM_SIZE
        return self.data_block_prefix_size + pages

    def page_elements_in(self, page: int) -> int:
        """Elements of ``page``: a full page but for the last, which holds the rest."""
        return min(self.page_elements, self.n_elements - page * self.page_elements)

    @property
    def data_block_prefix_size(self) -> int:
        """Signature to checksum of the data block: all of it when unpaged, else up to the pages."""
        body = self.n_elements * self.element_size if not self.n_pages else (self.n_pages + 7) // 8
        return _BLOCK_START.size + body + CHECKSUM_SIZE

    def page_size(self, page: int) -> int:
        return self.page_elements_in(page) * self.element_size + CHECKSUM_SIZE

    def page_address(self, page: int) -> int:
        full = self.page_elements * self.element_size + CHECKSUM_SIZE
        return self.data_block_address + self.data_block_prefix_size + page * full

    def encode(self) -> bytes:
        return seal(
            _HEADER.pack(
                HEADER_SIGNATURE,
                VERSION,
                self.client_id,
                self.element_size,
                self.page_bits,
                self.n_elements,
                self.data_block_address,
            )
        )

    @classmethod
    def decode(cls, buf: BytesLike, *, address: int | None = None) -> Self:
        what = "fixed array header"
        body = verified(ByteCursor(buf, what).read(cls.SIZE), what=what, address=address)
        sig, version, client, es, bits, n, dblk = _HEADER.unpack(body)
        if sig != HEADER_SIGNATURE or version != VERSION or client > 1 or not es or bits > 32:
            raise FormatError(
                f"{what}: {sig!r} v{version} client {client} element size {es} page bits {bits}",
                structure=what,
                address=address,
            )
        return cls(client, es, bits, n, dblk)


@dataclass(frozen=True, slots=True)
class FixedArrayDataBlock:
    """FADB: the elements of an unpaged block, or the page-init bitmap of a paged one."""

    client_id: int
    header_address: int
    page_bitmap: bytes
    elements: bytes

    def encode(self, header: FixedArrayHeader) -> bytes:
        """The block up to its checksum: all of it when unpaged, the prefix when paged (whose
        pages ``encode_page`` seals one by one)."""
        body = self.page_bitmap if header.n_pages else self.elements
        expected = (
            header.page_bitmap_size if header.n_pages else header.n_elements * header.element_size
        )
        if len(body) != expected or self.client_id != header.client_id:
            raise FormatError(
                f"fixed array data block: {len(body)} bytes of "
                f"{'bitmap' if header.n_pages else 'elements'}, client {self.client_id}; the "
                f"header needs {expected}, client {header.client_id}",
                structure="fixed array data block",
            )
        start = _BLOCK_START.pack(
            DATA_BLOCK_SIGNATURE, VERSION, self.client_id, self.header_address
        )
        return seal(start + body)

    @classmethod
    def decode(
        cls, buf: BytesLike, header: FixedArrayHeader, *, address: int | None = None
    ) -> Self:
        what = "fixed array data block"
        size = header.data_block_prefix_size
        body = verified(ByteCursor(buf, what).read(size), what=what, address=address)
        cur = ByteCursor(body, what)
        sig, version, client, header_address = cur.unpack(_BLOCK_START)
        if sig != DATA_BLOCK_SIGNATURE or version != VERSION or client != header.client_id:  # type: ignore[comparison-overlap]
            raise FormatError(f"{what}: {sig!r} v{version} client {client}", structure=what)
        if header.n_pages:
            return cls(client, header_address, cur.read((header.n_pages + 7) // 8), b"")
        return cls(client, header_address, b"", cur.read(header.n_elements * header.element_size))


def encode_page(elements: BytesLike) -> bytes:
    """A data block page: its elements and their checksum, no signature."""
    return seal(elements)


def decode_page(buf: BytesLike, size: int, *, address: int | None = None) -> bytes:
    """The elements of one data block page (checksum verified and removed)."""
    what = "fixed array data block page"
    return bytes(verified(ByteCursor(buf, what).read(size), what=what, address=address))
