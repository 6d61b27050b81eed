"""Chunk lookups through an extensible array index (libhdf5 H5EA.c H5EA__lookup_elmt, H5Dearray.c).

Blocks are decoded once and kept until the next refresh: SWMR writers only add elements past the
dims a reader holds, so a block read later than the header still agrees with it where it matters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from h5swmr.access.source import FileSource
from h5swmr.errors import FormatError
from h5swmr.format.chunk_records import ChunkRecord, ElementCodec, element_addresses
from h5swmr.format.constants import CHECKSUM_SIZE, UNDEFINED_ADDRESS
from h5swmr.format.extensible_array.blocks import (
    DataBlock,
    ExtensibleArrayHeader,
    IndexBlock,
    SuperBlock,
    data_block_prefix_size,
    data_block_size,
    decode_page,
    index_block_size,
    is_page_initialised,
    page_address,
    page_size,
    super_block_size,
)
from h5swmr.format.extensible_array.params import SuperBlockInfo

T = TypeVar("T")
_WHAT = "extensible array"


def element_codec(client_id: int, element_size: int, what: str) -> ElementCodec:
    """The codec of index elements: 8-byte addresses, or address + size + filter mask."""
    if client_id == 0 and element_size == 8:
        return ElementCodec(filtered=False)
    if client_id == 1 and 13 <= element_size <= 20:
        return ElementCodec(filtered=True, size_width=element_size - 12)
    raise FormatError(
        f"{what}: client {client_id} with {element_size}-byte elements", structure=what
    )


def read_extensible_array_header(src: FileSource, address: int) -> ExtensibleArrayHeader:
    """The EA header at ``address`` (retried if torn)."""
    return src.block(
        address,
        ExtensibleArrayHeader.SIZE,
        lambda b: ExtensibleArrayHeader.decode(b, address=address),
        "extensible array header",
    )


class ExtensibleArrayLookup:
    """Looks chunk records up by their linear index in one snapshot of the EA header."""

    def __init__(self, src: FileSource, address: int) -> None:
        self._src = src
        self.address = address
        self.header = read_extensible_array_header(src, address)
        self._codec = element_codec(self.header.client_id, self.header.element_size, _WHAT)
        self._index_blocks: dict[int, IndexBlock] = {}
        self._super_blocks: dict[int, SuperBlock] = {}
        self._data_blocks: dict[int, DataBlock] = {}
        self._pages: dict[int, bytes] = {}

    @property
    def n_set(self) -> int:
        return self.header.max_index_set

    def lookup(self, index: int) -> ChunkRecord | None:
        if not 0 <= index < self.header.max_index_set:
            return None
        elements, position, _ = self._locate(index)
        return None if elements is None else self._record(elements, position)

    def address_run(self, index: int) -> tuple[int, np.ndarray]:
        """(first index, chunk addresses) of the whole block or page that holds ``index``,
        UNDEFINED_ADDRESS where no chunk is: one decode serves every chunk of the run."""
        if not 0 <= index < self.header.max_index_set:
            return index, np.full(1, UNDEFINED_ADDRESS, np.uint64)
        elements, position, count = self._locate(index)
        if elements is None:  # nothing stored: a run of one, whatever the block's size
            return index, np.full(1, UNDEFINED_ADDRESS, np.uint64)
        return index - position, element_addresses(
            elements, count, self.header.element_size, self.header.max_index_set - index + position
        )

    def _locate(self, index: int) -> tuple[bytes | None, int, int]:
        """The elements of the block or page that holds ``index`` (None if not allocated), the
        position of ``index`` in them and their number; ``index`` < max_index_set."""
        header = self.header
        params = header.params
        if header.index_block_address == UNDEFINED_ADDRESS:
            return None, 0, 1
        iblock = self._index_block()
        if index < params.idx_blk_elmts:
            return iblock.elements, index, params.idx_blk_elmts
        info, dblk, within = params.locate(index)
        if info.index < params.index_block_super_blocks:
            address = iblock.data_block_addresses[info.start_data_block + dblk]
            bitmap = None
        else:
            sblk_address = iblock.super_block_addresses[
                info.index - params.index_block_super_blocks
            ]
            if sblk_address == UNDEFINED_ADDRESS:
                return None, within, info.data_block_elements
            sblk = self._super_block(sblk_address, info)
            address, bitmap = sblk.data_block_addresses[dblk], sblk.page_bitmap
        if address == UNDEFINED_ADDRESS:
            return None, within, info.data_block_elements
        if not params.is_paged(info):
            return self._data_block(address, info).elements, within, info.data_block_elements
        page, offset = divmod(within, params.page_elements)
        if bitmap is None or not is_page_initialised(
            bitmap, dblk * params.pages_per_data_block(info) + page
        ):
            return None, offset, params.page_elements
        es = header.element_size
        return self._page(page_address(params, address, page, es)), offset, params.page_elements

    def _record(self, elements: bytes, position: int) -> ChunkRecord | None:
        es = self.header.element_size
        record = self._codec.decode(elements[position * es : (position + 1) * es])
        return record if record.is_allocated else None

    def _index_block(self) -> IndexBlock:
        address = self.header.index_block_address
        if address not in self._index_blocks:
            self._index_blocks[address] = self.read_index_block()
        return self._index_blocks[address]

    def _super_block(self, address: int, info: SuperBlockInfo) -> SuperBlock:
        if address not in self._super_blocks:
            self._super_blocks[address] = self.read_super_block(address, info)
        return self._super_blocks[address]

    def _data_block(self, address: int, info: SuperBlockInfo) -> DataBlock:
        if address not in self._data_blocks:
            self._data_blocks[address] = self.read_data_block(address, info)
        return self._data_blocks[address]

    def _page(self, address: int) -> bytes:
        if address not in self._pages:
            self._pages[address] = self.read_page(address)
        return self._pages[address]

    # Uncached reads of single blocks, for a writer that adopts them (writer/extensible_array_index)

    def read_index_block(self) -> IndexBlock:
        """The index block the header points at (the header must point at one)."""
        h = self.header
        address = h.index_block_address
        return self._src.block(
            address,
            index_block_size(h.params, h.element_size),
            lambda b: IndexBlock.decode(b, h.params, h.element_size, address=address),
            f"{_WHAT} index block",
        )

    def read_super_block(self, address: int, info: SuperBlockInfo) -> SuperBlock:
        p = self.header.params
        return self._src.block(
            address,
            super_block_size(p, info),
            lambda b: SuperBlock.decode(b, p, info, address=address),
            f"{_WHAT} super block",
        )

    def read_data_block(self, address: int, info: SuperBlockInfo) -> DataBlock:
        """An unpaged data block with its elements (a paged one: its prefix only)."""
        h = self.header
        size = (
            data_block_prefix_size(h.params) + CHECKSUM_SIZE
            if h.params.is_paged(info)
            else data_block_size(h.params, info, h.element_size)
        )
        return self._src.block(
            address,
            size,
            lambda b: DataBlock.decode(b, h.params, info, h.element_size, address=address),
            f"{_WHAT} data block",
        )

    def read_page(self, address: int) -> bytes:
        """The elements of the data block page at ``address``."""
        h = self.header
        return self._src.block(
            address,
            page_size(h.params, h.element_size),
            lambda b: decode_page(b, h.params, h.element_size, address=address),
            f"{_WHAT} data block page",
        )


def cached(
    src: FileSource,
    cache: dict[int, T],
    address: int,
    *,
    size: int,
    decode: Callable[[bytes], T],
    what: str,
) -> T:
    """The block at ``address`` from ``cache``, read, decoded (with retries) and kept if new."""
    if address not in cache:
        cache[address] = src.block(address, size, decode, what)
    return cache[address]
