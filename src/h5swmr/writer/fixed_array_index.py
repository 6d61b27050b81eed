"""A grid dataset's fixed-array chunk index, kept in memory and committed in SWMR order.

Every element exists from the start (one per chunk of the grid), so setting one never allocates
anything; ``commit()`` returns the writes of what changed: pages first, then the data block (the
page-init bitmap that makes a new page visible, or all elements of an unpaged block), then the
header, which is written again only when the data block moved. An unpaged block fits in one 4 KiB
page and is rewritten there. A paged block is larger than a page: a page or bitmap already on disk
that crosses a page boundary is never rewritten in place; the whole block is copied to fresh space
and the header (28 bytes inside one page) repointed, so a reader sees the old block or the new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from h5swmr.format.chunk_records import ChunkRecord, ElementCodec
from h5swmr.format.constants import CHECKSUM_SIZE
from h5swmr.format.extensible_array.blocks import set_page_initialised
from h5swmr.format.fixed_array import (
    FixedArrayDataBlock,
    FixedArrayHeader,
    encode_page,
)
from h5swmr.storage.allocator import PAGE_SIZE, EofAllocator, crosses_page
from h5swmr.storage.commit import Write
from h5swmr.writer.commit import CommitPlan

DEFAULT_PAGE_BITS = 10
"""libhdf5's ``max_dblk_page_nelmts_bits`` (H5D_FARRAY_MAX_DBLK_PAGE_NELMTS_BITS)."""
_BLOCK_OVERHEAD = 18 + CHECKSUM_SIZE
"""Signature, version, client id, header address and checksum of a data block."""


MIN_PAGE_BITS = 2
MAX_PAGES = 8 * 1024
"""Pages of a paged data block, at most: its page-init bitmap (1 KiB) stays well inside the
4 KiB page where the block starts, so setting a bit never tears."""


def page_bits_for(element_size: int, n_elements: int) -> int:
    """The data block's page size (log2 of its elements).

    A block that fits one 4 KiB page stays unpaged and is rewritten in place, untorn. A bigger
    one is paged with pages as small as the bitmap allows: a page that straddles a 4 KiB
    boundary cannot be rewritten in place (a crash could tear it), so changing one copies the
    whole block; with 36-byte pages about 1 in 110 does, with libhdf5's 8 KiB pages all would.
    """
    unpaged = DEFAULT_PAGE_BITS
    while unpaged > 1 and _BLOCK_OVERHEAD + (1 << unpaged) * element_size > PAGE_SIZE:
        unpaged -= 1
    if n_elements <= 1 << unpaged:
        return unpaged
    bits = MIN_PAGE_BITS
    while bits < unpaged and -(-n_elements >> bits) > MAX_PAGES:
        bits += 1
    return bits


@dataclass(slots=True)
class _Pages:
    """What a paged data block holds in memory and what of it the file has."""

    elements: dict[int, bytearray] = field(default_factory=dict)
    bitmap: bytearray = field(default_factory=bytearray)
    dirty: set[int] = field(default_factory=set)
    on_disk: set[int] = field(default_factory=set)
    bitmap_dirty: bool = True
    bitmap_on_disk: bool = False


class FixedArrayIndex:
    """The chunk index of one grid dataset: element ``i`` is the chunk with linear index ``i``."""

    def __init__(
        self, codec: ElementCodec, n_elements: int, header_address: int, allocator: EofAllocator
    ) -> None:
        self.codec = codec
        self.header_address = header_address
        self._allocator = allocator
        self.page_bits = page_bits_for(codec.element_size, n_elements)
        geometry = FixedArrayHeader(
            codec.client_id, codec.element_size, self.page_bits, n_elements, 0
        )
        if geometry.n_pages:
            address = allocator.allocate_page_aligned_at(geometry.data_block_size, 0)
        else:
            address = allocator.allocate(geometry.data_block_size, within_page=True)
        self.header = FixedArrayHeader(
            codec.client_id, codec.element_size, self.page_bits, n_elements, address
        )
        self._fill = codec.fill
        self._elements = None if geometry.n_pages else bytearray(self._fill * n_elements)
        self._pages = _Pages(bitmap=bytearray(geometry.page_bitmap_size))
        self._block_dirty = True
        self._header_dirty = True

    @property
    def n_elements(self) -> int:
        return self.header.n_elements

    def set(self, index: int, record: ChunkRecord) -> None:
        """Record chunk ``index`` (0 <= index < n_elements, checked by the caller)."""
        element = self.codec.encode(record)
        es = self.codec.element_size
        if self._elements is not None:
            self._elements[index * es : (index + 1) * es] = element
            self._block_dirty = True
            return
        page, within = divmod(index, self.header.page_elements)
        pages = self._pages
        elements = pages.elements.get(page)
        if elements is None:
            elements = bytearray(self._fill * self.header.page_elements_in(page))
            pages.elements[page] = elements
            set_page_initialised(pages.bitmap, page)
            pages.bitmap_dirty = True
        elements[within * es : (within + 1) * es] = element
        pages.dirty.add(page)

    def get(self, index: int) -> ChunkRecord:
        es = self.codec.element_size
        if self._elements is not None:
            return self.codec.decode(self._elements[index * es : (index + 1) * es])
        page, within = divmod(index, self.header.page_elements)
        elements = self._pages.elements.get(page)
        if elements is None:
            return ChunkRecord()
        return self.codec.decode(elements[within * es : (within + 1) * es])

    def commit(self, plan: CommitPlan, *, final: bool = False) -> None:
        """Add the writes of every changed block to ``plan``: pages (leaves), the data block
        (their parent), the header: what a parent points at is on disk before the parent.
        ``final`` changes nothing: a fixed array's header has no count that could run ahead."""
        client = self.codec.client_id
        if self._elements is not None:
            if self._block_dirty:
                block = FixedArrayDataBlock(client, self.header_address, b"", bytes(self._elements))
                plan.parents.append((self.header.data_block_address, block.encode(self.header)))
                self._block_dirty = False
        else:
            page_writes, block_writes = self._paged_writes()
            plan.leaves += page_writes
            plan.parents += block_writes
        if self._header_dirty:
            plan.index_headers.append((self.header_address, self.header.encode()))
            self._header_dirty = False

    def _paged_writes(self) -> tuple[list[Write], list[Write]]:
        pages, header = self._pages, self.header
        torn = (
            pages.bitmap_dirty
            and pages.bitmap_on_disk
            and crosses_page(header.data_block_address, header.data_block_prefix_size)
        ) or any(
            page in pages.on_disk
            and crosses_page(header.page_address(page), header.page_size(page))
            for page in pages.dirty
        )
        if torn:
            self._move_data_block()
        header = self.header  # moved, perhaps
        page_writes: list[Write] = [
            (header.page_address(page), encode_page(pages.elements[page]))
            for page in sorted(pages.dirty)
        ]
        pages.on_disk |= pages.dirty
        pages.dirty.clear()
        block_writes: list[Write] = []
        if pages.bitmap_dirty:
            block = FixedArrayDataBlock(
                header.client_id, self.header_address, bytes(pages.bitmap), b""
            )
            block_writes.append((header.data_block_address, block.encode(header)))
            pages.bitmap_dirty = False
            pages.bitmap_on_disk = True
        return page_writes, block_writes

    def _move_data_block(self) -> None:
        """Copy the whole data block to fresh space (its bitmap at the start of a page); the
        header, rewritten after it, points readers at the copy. The old block stays as it was
        for readers that still hold the old header."""
        old = self.header
        address = self._allocator.allocate_page_aligned_at(old.data_block_size, 0)
        self.header = FixedArrayHeader(
            old.client_id, old.element_size, old.page_bits, old.n_elements, address
        )
        pages = self._pages
        pages.dirty |= set(pages.elements)
        pages.on_disk.clear()
        pages.bitmap_dirty = True
        pages.bitmap_on_disk = False
        self._header_dirty = True

    def release_below(self, index: int) -> None:
        """Nothing to forget: any chunk of a grid may be written again."""
