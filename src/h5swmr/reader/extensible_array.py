"""Chunk lookups through an extensible array index (libhdf5 H5EA.c H5EA__lookup_elmt, H5Dearray.c).

Blocks are decoded once and kept until the next refresh: SWMR writers only add elements past the
dims a reader holds, so a block read later than the header still agrees with it where it matters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from h5swmr.errors import FormatError
from h5swmr.format.constants import CHECKSUM_SIZE, UNDEFINED_ADDRESS
from h5swmr.format.extensible_array.blocks import (
    DataBlock,
    ExtensibleArrayHeader,
    IndexBlock,
    SuperBlock,
    data_block_prefix_size,
    decode_page,
    index_block_size,
    is_page_initialised,
    page_address,
    page_size,
    super_block_size,
)
from h5swmr.format.extensible_array.elements import ChunkRecord, ElementCodec
from h5swmr.format.extensible_array.params import SuperBlockInfo
from h5swmr.reader.source import FileSource

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


class ExtensibleArrayIndex:
    """Looks chunk records up by their linear index in one snapshot of the EA header."""

    def __init__(self, src: FileSource, address: int) -> None:
        self._src = src
        self.header = src.block(
            address,
            ExtensibleArrayHeader.SIZE,
            lambda b: ExtensibleArrayHeader.decode(b, address=address),
            "extensible array header",
        )
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
        h = self.header
        address = h.index_block_address
        return cached(
            self._src,
            self._index_blocks,
            address,
            size=index_block_size(h.params, h.element_size),
            decode=lambda b: IndexBlock.decode(b, h.params, h.element_size, address=address),
            what=f"{_WHAT} index block",
        )

    def _super_block(self, address: int, info: SuperBlockInfo) -> SuperBlock:
        p = self.header.params
        return cached(
            self._src,
            self._super_blocks,
            address,
            size=super_block_size(p, info),
            decode=lambda b: SuperBlock.decode(b, p, info, address=address),
            what=f"{_WHAT} super block",
        )

    def _data_block(self, address: int, info: SuperBlockInfo) -> DataBlock:
        h = self.header
        n = info.data_block_elements * h.element_size
        return cached(
            self._src,
            self._data_blocks,
            address,
            size=data_block_prefix_size(h.params) + n + CHECKSUM_SIZE,
            decode=lambda b: DataBlock.decode(b, h.params, info, h.element_size, address=address),
            what=f"{_WHAT} data block",
        )

    def _page(self, address: int) -> bytes:
        h = self.header
        return cached(
            self._src,
            self._pages,
            address,
            size=page_size(h.params, h.element_size),
            decode=lambda b: decode_page(b, h.params, h.element_size, address=address),
            what=f"{_WHAT} data block page",
        )


def element_addresses(
    elements: bytes | None, count: int, element_size: int, valid: int
) -> np.ndarray:
    """The chunk addresses (the first 8 bytes of each element) of ``count`` index elements, as a
    writable uint64 array; UNDEFINED_ADDRESS for all of them when ``elements`` is None, and from
    position ``valid`` on (elements past the array's max index set)."""
    if elements is None:
        return np.full(count, UNDEFINED_ADDRESS, np.uint64)
    if len(elements) < count * element_size:
        raise FormatError(f"{_WHAT}: {len(elements)} bytes for {count} elements")
    record = np.dtype({"names": ["address"], "formats": ["<u8"], "itemsize": element_size})
    addresses = np.frombuffer(elements, record, count=count)["address"].astype(np.uint64)
    if valid < count:
        addresses[max(valid, 0) :] = UNDEFINED_ADDRESS
    return addresses


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
