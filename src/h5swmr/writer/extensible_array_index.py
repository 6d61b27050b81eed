"""A dataset's extensible-array chunk index, kept in memory and committed in SWMR order.

Setting an element only changes memory; ``commit()`` returns the writes of every changed block in
the order a SWMR reader needs: data blocks and pages, then super blocks, then the index block, then
the header, whose ``max_index_set`` is the index's commit point. New blocks are written whole before
any parent points at them; old blocks are rewritten in place, each with one pwrite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from h5swmr.access.extensible_array import ExtensibleArrayLookup
from h5swmr.errors import FormatError, InvalidArgumentError
from h5swmr.format.checksum import seal
from h5swmr.format.chunk_records import ChunkRecord, ElementCodec
from h5swmr.format.constants import CHECKSUM_SIZE, UNDEFINED_ADDRESS
from h5swmr.format.extensible_array.blocks import (
    DataBlock,
    ExtensibleArrayHeader,
    IndexBlock,
    SuperBlock,
    data_block_size,
    encode_page,
    index_block_size,
    is_page_initialised,
    page_address,
    page_bitmap_size,
    page_size,
    patch_header_statistics,
    set_page_initialised,
    super_block_size,
    unpaged_data_block_size,
)
from h5swmr.format.extensible_array.params import ExtensibleArrayParams, SuperBlockInfo
from h5swmr.storage.allocator import PAGE_SIZE, EofAllocator, crosses_page
from h5swmr.storage.commit import Write
from h5swmr.writer.commit import CommitPlan

MIN_PAGE_BITS = 6
"""Data blocks that hang off the index block (at most 64 elements) must never be paged."""


def params_for(element_size: int) -> ExtensibleArrayParams:
    """libhdf5's parameters, with pages small enough that every block rewritten per commit (an
    unpaged data block, a page) fits in one 4 KiB page; any valid value is read from the file."""
    params = ExtensibleArrayParams(max_dblk_page_nelmts_bits=10)
    while (
        params.max_dblk_page_nelmts_bits > MIN_PAGE_BITS
        and unpaged_data_block_size(params, params.page_elements, element_size) > PAGE_SIZE
    ):
        params = ExtensibleArrayParams(
            max_dblk_page_nelmts_bits=params.max_dblk_page_nelmts_bits - 1
        )
    return params


@dataclass(slots=True)
class _DataBlockState:
    address: int
    info: SuperBlockInfo
    number: int
    elements: bytearray | None = None
    """All elements of an unpaged block; None for a paged one, whose pages live in ``pages``."""
    pages: dict[int, bytearray] = field(default_factory=dict)
    dirty_pages: set[int] = field(default_factory=set)
    pages_on_disk: set[int] = field(default_factory=set)
    is_new: bool = True
    dirty: bool = True
    prefix: bytes = b""
    """The encoded signature .. block offset, made at the first commit."""


@dataclass(slots=True)
class _SuperBlockState:
    address: int
    info: SuperBlockInfo
    bitmap: bytearray
    data_block_addresses: list[int]
    dirty: bool = True
    on_disk: bool = False


class ExtensibleArrayIndex:
    """The chunk index of one dataset: element ``i`` is the chunk with linear index ``i``."""

    def __init__(
        self,
        params: ExtensibleArrayParams,
        codec: ElementCodec,
        header_address: int,
        allocator: EofAllocator,
    ) -> None:
        self.params = params
        self._allocator = allocator
        self.codec = codec
        self.header_address = header_address
        self._index_block_address = UNDEFINED_ADDRESS
        self._header_image: bytearray | None = None
        """The header as last written; later commits patch its statistics and checksum."""
        self._element_size = codec.element_size
        self._idx_blk_elmts = params.idx_blk_elmts
        self._data_blk_min_elmts = params.data_blk_min_elmts
        self._infos = params.super_blocks()
        self._page_elements = params.page_elements
        self._page_size = page_size(params, codec.element_size)
        self._max_elements = params.max_elements
        self._fill = codec.fill
        self._index_elements = bytearray(self._fill * params.idx_blk_elmts)
        self._index_data_blocks = [UNDEFINED_ADDRESS] * params.index_block_data_block_addresses
        self._index_super_blocks = [UNDEFINED_ADDRESS] * params.index_block_super_block_addresses
        self._index_dirty = False
        self._super_blocks: dict[int, _SuperBlockState] = {}
        self._data_blocks: dict[tuple[int, int], _DataBlockState] = {}
        self._stats = [0, 0, 0, 0]  # super blocks, their bytes, data blocks, their bytes
        self._max_index_set = 0
        self._realized = 0
        self._header_dirty = True
        self._source: ExtensibleArrayLookup | None = None
        """Where the blocks of an index loaded from a file are read (None for a new index)."""

    @property
    def max_index_set(self) -> int:
        return self._max_index_set

    @property
    def header(self) -> ExtensibleArrayHeader:
        """The header as the next commit writes it (statistics of every block made so far)."""
        n_super, super_bytes, n_data, data_bytes = self._stats
        return ExtensibleArrayHeader(
            self.codec.client_id,
            self._element_size,
            self.params,
            n_super,
            super_bytes,
            n_data,
            data_bytes,
            self._max_index_set,
            self._realized,
            self._index_block_address,
        )

    def _locate(self, index: int) -> tuple[SuperBlockInfo, int, int]:
        """``params.locate`` with the geometry cached (the append path calls it every frame)."""
        j = index - self._idx_blk_elmts
        if j < 0:
            return self.params.locate(index)  # raises
        info = self._infos[(j // self._data_blk_min_elmts + 1).bit_length() - 1]
        number, position = divmod(j - info.start_index, info.data_block_elements)
        return info, number, position

    def set(self, index: int, record: ChunkRecord) -> None:
        """Record chunk ``index``; blocks it needs are allocated now and written at commit.

        ``_set_elements`` for one element, spelled out: this is the per-frame call of every
        one-chunk-per-frame dataset, and going through the run path costs ~0.7 us a frame."""
        element = self.codec.encode(record)
        if not 0 <= index < self._max_elements:
            self.params.locate(index)  # raises
        if self._index_block_address == UNDEFINED_ADDRESS:
            self._create_index_block()
        self._store(index, element)
        if index >= self._max_index_set:
            self._max_index_set = index + 1
            self._header_dirty = True

    def set_run(self, first: int, records: Sequence[ChunkRecord]) -> None:
        """Record chunks ``first, first + 1, ...``, copied into the index a block or page at
        a time rather than element by element."""
        encode = self.codec.encode
        self._set_elements(first, len(records), b"".join([encode(r) for r in records]))

    def set_addresses(self, first: int, addresses: Sequence[int]) -> None:
        """``set_run`` for unfiltered chunks, whose elements are just addresses: the tiles of
        an unfiltered frame, packed in one call."""
        if self.codec.filtered:
            raise InvalidArgumentError("filtered chunks need their size and filter mask")
        self._set_elements(first, len(addresses), self.codec.encode_addresses(addresses))

    def _set_elements(self, first: int, count: int, encoded: bytes) -> None:
        if not count:
            return
        end = first + count
        if end > self._max_elements or first < 0:
            self.params.locate(first if first < 0 else end - 1)  # raises
        elements = memoryview(encoded)
        if self._index_block_address == UNDEFINED_ADDRESS:
            self._create_index_block()
        index = first
        while index < end:
            index += self._store(index, elements[(index - first) * self._element_size :])
        if end > self._max_index_set:
            self._max_index_set = end
            self._header_dirty = True

    def _store(self, index: int, elements: bytes | memoryview) -> int:
        """Copy the leading ``elements`` that fall in the index block, data block or page of
        ``index``; returns how many."""
        es = self._element_size
        count = len(elements) // es
        if index < self._idx_blk_elmts:
            n = min(count, self._idx_blk_elmts - index)
            self._index_elements[index * es : (index + n) * es] = elements[: n * es]
            self._index_dirty = True
            return n
        info, number, position = self._locate(index)
        block = self._data_block(info, number)
        block.dirty = True
        if block.elements is not None:
            n = min(count, info.data_block_elements - position)
            block.elements[position * es : (position + n) * es] = elements[: n * es]
            return n
        page, within = divmod(position, self._page_elements)
        n = min(count, self._page_elements - within)
        page_elements = block.pages.get(page) or self._page(block, page)
        page_elements[within * es : (within + n) * es] = elements[: n * es]
        block.dirty_pages.add(page)
        return n

    def get(self, index: int) -> ChunkRecord:
        """Chunk ``index`` as recorded (read from the file for an index loaded from one)."""
        es = self.codec.element_size
        if index >= self._max_index_set:
            return ChunkRecord()
        if index < self.params.idx_blk_elmts:
            return self.codec.decode(self._index_elements[index * es : (index + 1) * es])
        info, number, position = self.params.locate(index)
        block = self._data_blocks.get((info.index, number)) or self._load_data_block(info, number)
        if block is None:
            return ChunkRecord()
        self._data_blocks[(info.index, number)] = block
        if block.elements is not None:
            return self.codec.decode(block.elements[position * es : (position + 1) * es])
        page, within = divmod(position, self.params.page_elements)
        parent = self._super_blocks[info.index]
        bit = number * self.params.pages_per_data_block(info) + page
        if page not in block.pages and not is_page_initialised(parent.bitmap, bit):
            return ChunkRecord()
        elements = block.pages.get(page) or self._page(block, page)
        return self.codec.decode(elements[within * es : (within + 1) * es])

    def _page(self, block: _DataBlockState, page: int) -> bytearray:
        """A page of a paged data block: read back if the file has it, else a new one."""
        parent = self._super_blocks[block.info.index]
        bit = block.number * self.params.pages_per_data_block(block.info) + page
        if self._source is not None and is_page_initialised(parent.bitmap, bit):
            address = page_address(self.params, block.address, page, self.codec.element_size)
            elements = bytearray(self._source.read_page(address))
            block.pages_on_disk.add(page)
        else:
            elements = bytearray(self._fill * self.params.page_elements)
            self._mark_page_initialised(block.info, block.number, page)
        block.pages[page] = elements
        return elements

    def _create_index_block(self) -> None:
        size = index_block_size(self.params, self.codec.element_size)
        address = self._allocator.allocate(size, within_page=True)
        self._realized += self.params.idx_blk_elmts
        self._index_block_address = address
        self._index_dirty = self._header_dirty = True

    def _data_block(self, info: SuperBlockInfo, number: int) -> _DataBlockState:
        key = (info.index, number)
        block = self._data_blocks.get(key)
        if block is not None:
            return block
        block = self._load_data_block(info, number)
        if block is not None:
            self._data_blocks[key] = block
            return block
        size = data_block_size(self.params, info, self.codec.element_size)
        address = self._allocator.allocate(size, within_page=True)
        paged = self.params.is_paged(info)
        elements = None if paged else bytearray(self._fill * info.data_block_elements)
        block = self._data_blocks[key] = _DataBlockState(address, info, number, elements)
        self._stats[2] += 1
        self._stats[3] += size
        self._realized += info.data_block_elements
        self._header_dirty = True
        if info.index < self.params.index_block_super_blocks:
            self._index_data_blocks[info.start_data_block + number] = address
            self._index_dirty = True
        else:
            parent = self._super_block(info)
            parent.data_block_addresses[number] = address
            parent.dirty = True
        return block

    def _load_data_block(self, info: SuperBlockInfo, number: int) -> _DataBlockState | None:
        """The data block as the file has it, when this index was loaded from a file."""
        if info.index < self.params.index_block_super_blocks:
            address = self._index_data_blocks[info.start_data_block + number]
        else:
            parent = self._super_blocks.get(info.index)
            address = UNDEFINED_ADDRESS if parent is None else parent.data_block_addresses[number]
        if address == UNDEFINED_ADDRESS or self._source is None:
            return None
        elements = None
        if not self.params.is_paged(info):
            elements = bytearray(self._source.read_data_block(address, info).elements)
        return _DataBlockState(address, info, number, elements, is_new=False, dirty=False)

    @classmethod
    def from_lookup(
        cls, lookup: ExtensibleArrayLookup, codec: ElementCodec, allocator: EofAllocator
    ) -> ExtensibleArrayIndex:
        """The index a file holds, to append to: the header and the index and super blocks are
        adopted now, data blocks and pages read through ``lookup`` as appends reach them."""
        header, header_address = lookup.header, lookup.address
        if header.element_size != codec.element_size or header.client_id != codec.client_id:
            raise FormatError(
                f"extensible array at {header_address}: elements of {header.element_size} bytes "
                f"(client {header.client_id}), expected {codec.element_size} "
                f"(client {codec.client_id})",
                structure="extensible array header",
                address=header_address,
            )
        index = cls(header.params, codec, header_address, allocator)
        index._index_block_address = header.index_block_address
        index._source = lookup
        index._stats = [
            header.n_super_blocks,
            header.super_block_bytes,
            header.n_data_blocks,
            header.data_block_bytes,
        ]
        index._max_index_set = header.max_index_set
        index._realized = header.n_elements_realized
        index._header_dirty = False
        if header.index_block_address != UNDEFINED_ADDRESS:
            index._adopt_index_block(lookup)
        return index

    def _adopt_index_block(self, lookup: ExtensibleArrayLookup) -> None:
        block = lookup.read_index_block()
        self._index_elements = bytearray(block.elements)
        self._index_data_blocks = list(block.data_block_addresses)
        self._index_super_blocks = list(block.super_block_addresses)
        first = self.params.index_block_super_blocks
        for slot, sblock_address in enumerate(block.super_block_addresses):
            if sblock_address == UNDEFINED_ADDRESS:
                continue
            info = self.params.super_block(first + slot)
            decoded = lookup.read_super_block(sblock_address, info)
            self._super_blocks[info.index] = _SuperBlockState(
                sblock_address,
                info,
                bytearray(decoded.page_bitmap),
                list(decoded.data_block_addresses),
                dirty=False,
                on_disk=True,
            )

    def _super_block(self, info: SuperBlockInfo) -> _SuperBlockState:
        state = self._super_blocks.get(info.index)
        if state is None:
            size = super_block_size(self.params, info)
            address = self._allocator.allocate(size, within_page=True)
            bitmap = bytearray(page_bitmap_size(self.params, info))
            addresses = [UNDEFINED_ADDRESS] * info.n_data_blocks
            state = self._super_blocks[info.index] = _SuperBlockState(
                address, info, bitmap, addresses
            )
            self._index_super_blocks[info.index - self.params.index_block_super_blocks] = address
            self._stats[0] += 1
            self._stats[1] += size
            self._index_dirty = self._header_dirty = True
        return state

    def _mark_page_initialised(self, info: SuperBlockInfo, number: int, page: int) -> None:
        parent = self._super_blocks[info.index]
        set_page_initialised(parent.bitmap, number * self.params.pages_per_data_block(info) + page)
        parent.dirty = True

    def commit(self, plan: CommitPlan) -> None:
        """Add the writes of every changed block to ``plan``: data blocks and pages (leaves),
        super blocks (parents), the index block, the header (the index's commit point)."""
        for block in self._data_blocks.values():
            if block.dirty:
                plan.leaves += self._data_block_writes(block)
                block.is_new = block.dirty = False
        for sblock in self._super_blocks.values():
            if sblock.dirty:
                size = super_block_size(self.params, sblock.info)
                if sblock.on_disk and crosses_page(sblock.address, size):
                    self._move_super_block(sblock, size)
                encoded_sb = SuperBlock(
                    self.codec.client_id,
                    self.header_address,
                    sblock.info.start_index,
                    bytes(sblock.bitmap),
                    tuple(sblock.data_block_addresses),
                )
                plan.parents.append((sblock.address, encoded_sb.encode(self.params)))
                sblock.dirty = False
                sblock.on_disk = True
        if self._index_dirty:
            index_block = IndexBlock(
                self.codec.client_id,
                self.header_address,
                bytes(self._index_elements),
                tuple(self._index_data_blocks),
                tuple(self._index_super_blocks),
            )
            plan.index_blocks.append((self._index_block_address, index_block.encode()))
            self._index_dirty = False
        if self._header_dirty:
            plan.index_headers.append((self.header_address, self._encode_header()))
            self._header_dirty = False

    def _encode_header(self) -> bytes:
        """``self.header.encode()``: encoded once, then patched (statistics and checksum)."""
        image = self._header_image
        if image is None:
            image = self._header_image = bytearray(self.header.encode())
            return bytes(image)
        statistics = (*self._stats, self._max_index_set, self._realized, self._index_block_address)
        patch_header_statistics(image, statistics)
        return bytes(image)

    def _data_block_writes(self, block: _DataBlockState) -> list[Write]:
        """The writes of a changed data block: whole if unpaged (it fits in one page), else its
        prefix when new and each changed page. A page that was written before and crosses a page
        boundary is never rewritten in place: the whole block moves to fresh space, placed so the
        page being filled starts a page, and its super block points at the new copy."""
        if block.elements is not None:
            if not block.prefix:
                offset = self.params.data_block_offset(block.info, block.number)
                block.prefix = DataBlock(
                    self.codec.client_id, self.header_address, offset, b""
                ).encode(self.params)[:-CHECKSUM_SIZE]
            return [(block.address, seal(block.prefix + block.elements))]
        es = self._element_size
        size = self._page_size
        # one dirty page a flush is the usual case: no sort, each page address computed once
        pages = sorted(block.dirty_pages) if len(block.dirty_pages) > 1 else [*block.dirty_pages]
        addresses = [page_address(self.params, block.address, page, es) for page in pages]
        for page, address in zip(pages, addresses, strict=True):
            if page in block.pages_on_disk and crosses_page(address, size):
                self._move_data_block(block, pages[-1])
                pages = sorted(block.dirty_pages)
                addresses = [page_address(self.params, block.address, page, es) for page in pages]
                break
        writes: list[Write] = []
        if block.is_new:
            offset = self.params.data_block_offset(block.info, block.number)
            prefix = DataBlock(self.codec.client_id, self.header_address, offset, b"")
            writes.append((block.address, prefix.encode(self.params)))
        for page, address in zip(pages, addresses, strict=True):
            writes.append((address, encode_page(block.pages[page])))
        block.pages_on_disk |= block.dirty_pages
        block.dirty_pages.clear()
        return writes

    def _move_data_block(self, block: _DataBlockState, page: int) -> None:
        es = self.codec.element_size
        first_page = page_address(self.params, 0, page, es)
        size = data_block_size(self.params, block.info, es)
        block.address = self._allocator.allocate_page_aligned_at(size, first_page)
        block.is_new = True
        block.dirty_pages |= set(block.pages)
        block.pages_on_disk.clear()
        parent = self._super_blocks[block.info.index]
        parent.data_block_addresses[block.number] = block.address
        parent.dirty = True

    def _move_super_block(self, sblock: _SuperBlockState, size: int) -> None:
        """A super block too big for one page is written anew, never over itself."""
        sblock.address = self._allocator.allocate(size)
        slot = sblock.info.index - self.params.index_block_super_blocks
        self._index_super_blocks[slot] = sblock.address
        self._index_dirty = True

    def release_below(self, index: int) -> None:
        """Forget the elements of data blocks that lie wholly below ``index``.

        The caller promises never to set those elements again, so the writer's memory stays
        bounded by the frames in flight rather than by the frames written.
        """
        for key, block in list(self._data_blocks.items()):
            if block.dirty:
                continue
            first = self.params.idx_blk_elmts + block.info.start_index
            first += block.number * block.info.data_block_elements
            if first + block.info.data_block_elements <= index:
                del self._data_blocks[key]
