"""Chunk lookups through a fixed array index (libhdf5 H5FA.c H5FA_get, H5Dfarray.c)."""

from __future__ import annotations

import numpy as np

from h5swmr.access.extensible_array import cached, element_codec
from h5swmr.access.source import FileSource
from h5swmr.format.chunk_records import ChunkRecord, element_addresses
from h5swmr.format.constants import UNDEFINED_ADDRESS
from h5swmr.format.extensible_array.blocks import is_page_initialised
from h5swmr.format.fixed_array import FixedArrayDataBlock, FixedArrayHeader, decode_page

_WHAT = "fixed array"


class FixedArrayLookup:
    """Looks chunk records up by linear index in one snapshot of a fixed array."""

    def __init__(self, src: FileSource, address: int) -> None:
        self._src = src
        self.header = src.block(
            address,
            FixedArrayHeader.SIZE,
            lambda b: FixedArrayHeader.decode(b, address=address),
            "fixed array header",
        )
        self._codec = element_codec(self.header.client_id, self.header.element_size, _WHAT)
        self._block: FixedArrayDataBlock | None = None
        self._pages: dict[int, bytes] = {}

    def lookup(self, index: int) -> ChunkRecord | None:
        if not 0 <= index < self.header.n_elements:
            return None
        elements, position, _ = self._locate(index)
        return None if elements is None else self._record(elements, position)

    def address_run(self, index: int) -> tuple[int, np.ndarray]:
        """(first index, chunk addresses) of the data block or page that holds ``index``."""
        if not 0 <= index < self.header.n_elements:
            return index, np.full(1, UNDEFINED_ADDRESS, np.uint64)
        elements, position, count = self._locate(index)
        if elements is None:  # nothing stored: a run of one, whatever the page's size
            return index, np.full(1, UNDEFINED_ADDRESS, np.uint64)
        return index - position, element_addresses(elements, count, self.header.element_size, count)

    def _locate(self, index: int) -> tuple[bytes | None, int, int]:
        """The elements of the block or page that holds ``index`` (None if not allocated), the
        position of ``index`` in them and their number; ``index`` < n_elements."""
        h = self.header
        if h.data_block_address == UNDEFINED_ADDRESS:
            return None, 0, 1
        block = self._data_block()
        if not h.n_pages:
            return block.elements, index, h.n_elements
        page, offset = divmod(index, h.page_elements)
        count = min(h.page_elements, h.n_elements - page * h.page_elements)
        if not is_page_initialised(block.page_bitmap, page):
            return None, offset, count
        address = h.page_address(page)
        size = h.page_size(page)
        elements = cached(
            self._src,
            self._pages,
            address,
            size=size,
            decode=lambda b: decode_page(b, size, address=address),
            what=f"{_WHAT} page",
        )
        return elements, offset, count

    def _data_block(self) -> FixedArrayDataBlock:
        if self._block is None:
            h = self.header
            self._block = self._src.block(
                h.data_block_address,
                h.data_block_prefix_size,
                lambda b: FixedArrayDataBlock.decode(b, h, address=h.data_block_address),
                f"{_WHAT} data block",
            )
        return self._block

    def _record(self, elements: bytes, position: int) -> ChunkRecord | None:
        es = self.header.element_size
        record = self._codec.decode(elements[position * es : (position + 1) * es])
        return record if record.is_allocated else None
