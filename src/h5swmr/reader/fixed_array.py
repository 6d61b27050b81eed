"""Chunk lookups through a fixed array index (libhdf5 H5FA.c H5FA_get, H5Dfarray.c)."""

from __future__ import annotations

from h5swmr.format.constants import UNDEFINED_ADDRESS
from h5swmr.format.extensible_array.blocks import is_page_initialised
from h5swmr.format.extensible_array.elements import ChunkRecord
from h5swmr.format.fixed_array import FixedArrayDataBlock, FixedArrayHeader, decode_page
from h5swmr.reader.extensible_array import cached, element_codec
from h5swmr.reader.source import FileSource

_WHAT = "fixed array"


class FixedArrayIndex:
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
        h = self.header
        if not 0 <= index < h.n_elements or h.data_block_address == UNDEFINED_ADDRESS:
            return None
        block = self._data_block()
        if not h.n_pages:
            return self._record(block.elements, index)
        page, offset = divmod(index, h.page_elements)
        if not is_page_initialised(block.page_bitmap, page):
            return None
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
        return self._record(elements, offset)

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
