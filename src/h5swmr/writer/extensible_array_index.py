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
from h5swmr.format.checksum import reseal, reseal_body
from h5swmr.format.chunk_records import (
    ADDRESS_SIZE,
    ChunkRecord,
    ElementCodec,
    pack_address_into,
)
from h5swmr.format.constants import CHECKSUM_SIZE, UNDEFINED_ADDRESS
from h5swmr.format.extensible_array.blocks import (
    DataBlock,
    ExtensibleArrayHeader,
    IndexBlock,
    SuperBlock,
    data_block_prefix_size,
    data_block_size,
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


PAGE_ELEMENT_BYTES = 512
"""The elements of a data-block page (and of the largest unpaged data block) fill at most this
many bytes, as far as MIN_PAGE_BITS allows: 64 elements for every element size h5swmr writes.
Each flush rewrites and checksums the page (or unpaged block) of the newest element: with 2 KiB
pages that checksum was a sixth of the instructions of a small frame appended and flushed on its
own; 64-element pages cut them by an eighth (callgrind, 64x64 uint16 frames, 12k-64k frames) and
the index's bytes on disk by 40%."""


def params_for(element_size: int) -> ExtensibleArrayParams:
    """libhdf5's parameters, with pages small enough that every block rewritten per commit (an
    unpaged data block, a page) fits in one 4 KiB page and checksums quickly
    (PAGE_ELEMENT_BYTES). Any valid value is read from the file: 64-element pages read bit for
    bit in HDF5 1.10 to 2.0 (shared/docs/hdf5-swmr-format.md, "Space, EOF and durability";
    tests/writer/test_index_runs_ahead.py)."""
    params = ExtensibleArrayParams(max_dblk_page_nelmts_bits=10)
    while params.max_dblk_page_nelmts_bits > MIN_PAGE_BITS and (
        unpaged_data_block_size(params, params.page_elements, element_size) > PAGE_SIZE
        or params.page_elements * element_size > PAGE_ELEMENT_BYTES
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
    image: bytearray | None = None
    """An unpaged block as it is written: prefix, elements and checksum, resealed in place at
    each commit that changed it; None for a paged one, whose pages live in ``pages``."""
    elements: memoryview | None = None
    """The elements inside ``image`` (None for a paged block)."""
    body: memoryview | None = None
    """``image`` without its checksum, what the checksum covers (None for a paged block)."""
    pages: dict[int, bytearray] = field(default_factory=dict)
    """Each page as it is written: its elements, then room for its checksum."""
    page_bodies: dict[int, memoryview] = field(default_factory=dict)
    """Each page without its checksum (what the checksum covers)."""
    dirty_pages: set[int] = field(default_factory=set)
    pages_on_disk: set[int] = field(default_factory=set)
    is_new: bool = True
    dirty: bool = True


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
        self._addresses_only = not codec.filtered and codec.element_size == ADDRESS_SIZE
        """Elements are bare chunk addresses (unfiltered chunks): ``set_address`` packs them."""
        self._idx_blk_elmts = params.idx_blk_elmts
        self._data_blk_min_elmts = params.data_blk_min_elmts
        self._infos = params.super_blocks()
        self._page_elements = params.page_elements
        self._page_size = page_size(params, codec.element_size)
        self._first_page = page_address(params, 0, 0, codec.element_size)
        """Where page 0 starts in a paged data block; page p follows at ``p * _page_size``."""
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
        self._written_max_index = 0
        """The ``max_index_set`` of the header on disk: at least ``_max_index_set`` once
        committed (see ``_header_max_index``); setting an element below it needs no header."""
        self._realized = 0
        self._header_dirty = True
        self._source: ExtensibleArrayLookup | None = None
        """Where the blocks of an index loaded from a file are read (None for a new index)."""
        self._dirty_blocks: list[_DataBlockState] = []
        """The data blocks changed since the last commit, each once: a commit visits only
        these, not every block held."""
        self._super_blocks_dirty = False
        self._release_at = 0
        """``release_below`` has nothing to drop below this index (the end of the lowest block
        held)."""
        self._span_start = 0
        self._span_end = 0
        self._span: bytearray | memoryview = bytearray()
        self._span_block: _DataBlockState | None = None
        self._span_page = -1
        """Elements ``[_span_start, _span_end)`` live in ``_span``, the elements of
        ``_span_block`` (or of its page ``_span_page``) where the last element was stored: the
        next frame's element almost always falls there, and is stored without locating it."""

    @property
    def max_index_set(self) -> int:
        return self._max_index_set

    @property
    def header(self) -> ExtensibleArrayHeader:
        """The header with the statistics of every block made so far and ``max_index_set``
        exact: what the last commit of a file writes (``commit(final=True)``)."""
        return self._header(self._max_index_set)

    def _header(self, max_index_set: int) -> ExtensibleArrayHeader:
        n_super, super_bytes, n_data, data_bytes = self._stats
        return ExtensibleArrayHeader(
            self.codec.client_id,
            self._element_size,
            self.params,
            n_super,
            super_bytes,
            n_data,
            data_bytes,
            max_index_set,
            self._realized,
            self._index_block_address,
        )

    def _header_max_index(self) -> int:
        """The ``max_index_set`` a commit writes: past the highest element set, to the end of
        the data block or page that holds it (the span) when it does. A SWMR reader looks only
        at elements inside the dims, which never pass the highest element set, and finds the
        rest of that block or page unset (fill, as libhdf5's writer fills new blocks); libhdf5
        sets those elements later without extending anything. So the header is rewritten
        once a block or page, not at every commit: one pwrite and one checksum less per
        flushed frame. The final commit stores the exact value."""
        top = self._max_index_set
        if self._span_start < top <= self._span_end:
            return self._span_end
        return top

    def _locate(self, index: int) -> tuple[SuperBlockInfo, int, int]:
        """``params.locate`` with the geometry cached (the append path calls it every frame)."""
        j = index - self._idx_blk_elmts
        if j < 0:
            return self.params.locate(index)  # raises
        info = self._infos[(j // self._data_blk_min_elmts + 1).bit_length() - 1]
        number, position = divmod(j - info.start_index, info.data_block_elements)
        return info, number, position

    def set(self, index: int, record: ChunkRecord) -> None:
        """Record chunk ``index``; blocks it needs are allocated now and written at commit."""
        self._set_one(index, self.codec.encode(record))

    def set_address(self, index: int, address: int) -> None:
        """``set(index, ChunkRecord(address))`` for an unfiltered chunk, without making the
        record: the per-frame call of every unfiltered one-chunk-per-frame dataset."""
        start = self._span_start
        if start <= index < self._span_end and self._addresses_only:  # _set_one, spelled out
            pack_address_into(self._span, (index - start) * ADDRESS_SIZE, address)
            block = self._span_block
            assert block is not None  # a span is always some block's
            if not block.dirty:
                block.dirty = True
                self._dirty_blocks.append(block)
            if self._span_page >= 0:
                block.dirty_pages.add(self._span_page)
            if index >= self._max_index_set:
                self._max_index_set = index + 1
                if index >= self._written_max_index:
                    self._header_dirty = True
            return
        if self.codec.filtered:
            raise InvalidArgumentError("filtered chunks need their size and filter mask")
        self._set_one(index, self.codec.encode_address(address))

    def _set_one(self, index: int, element: bytes) -> None:
        """``_set_elements`` for one element, spelled out (the per-frame path): in the block or
        page of the last element, it is copied there at once."""
        start = self._span_start
        if start <= index < self._span_end:
            es = self._element_size
            offset = (index - start) * es
            self._span[offset : offset + es] = element
            block = self._span_block
            assert block is not None  # a span is always some block's
            if not block.dirty:
                block.dirty = True
                self._dirty_blocks.append(block)
            if self._span_page >= 0:
                block.dirty_pages.add(self._span_page)
        else:
            if not 0 <= index < self._max_elements:
                self.params.locate(index)  # raises
            if self._index_block_address == UNDEFINED_ADDRESS:
                self._create_index_block()
            self._store(index, element)
        if index >= self._max_index_set:
            self._max_index_set = index + 1
            if index >= self._written_max_index:
                self._header_dirty = True

    def drop_unset_tail(self, floor: int) -> None:
        """Bring ``max_index_set`` back to one past the highest element set, looking no lower
        than ``floor`` (below it, elements are known set) and at no more than a page or block
        of elements: a file left by a crash keeps the header that ran ahead (see
        ``_header_max_index``), and its final commit should store the exact value."""
        top = self._max_index_set
        lowest = max(floor, top - self.params.page_elements)
        while top > lowest and not self.get(top - 1).is_allocated:
            top -= 1
        self._max_index_set = top

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
            if end > self._written_max_index:
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
        if not block.dirty:
            block.dirty = True
            self._dirty_blocks.append(block)
        if block.elements is not None:
            n = min(count, info.data_block_elements - position)
            block.elements[position * es : (position + n) * es] = elements[: n * es]
            self._set_span(index - position, info.data_block_elements, block.elements, block, -1)
            return n
        page, within = divmod(position, self._page_elements)
        n = min(count, self._page_elements - within)
        page_elements = block.pages.get(page) or self._page(block, page)
        page_elements[within * es : (within + n) * es] = elements[: n * es]
        block.dirty_pages.add(page)
        self._set_span(index - within, self._page_elements, page_elements, block, page)
        return n

    def _set_span(
        self,
        start: int,
        count: int,
        elements: bytearray | memoryview,
        block: _DataBlockState | None,
        page: int,
    ) -> None:
        self._span_start, self._span_end = start, start + count
        self._span, self._span_block, self._span_page = elements, block, page

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
        self._hold(block)
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
        elements += bytes(CHECKSUM_SIZE)  # room for the checksum each commit puts there
        block.pages[page] = elements
        block.page_bodies[page] = memoryview(elements)[:-CHECKSUM_SIZE]
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
            self._hold(block)
            return block
        size = data_block_size(self.params, info, self.codec.element_size)
        address = self._allocator.allocate(size, within_page=True)
        block = _DataBlockState(address, info, number)
        if not self.params.is_paged(info):
            offset = self.params.data_block_offset(info, number)
            elements = self._fill * info.data_block_elements
            new = DataBlock(self.codec.client_id, self.header_address, offset, elements)
            self._set_image(block, new)
        self._hold(block)
        self._dirty_blocks.append(block)
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
            parent.dirty = self._super_blocks_dirty = True
        return block

    def _set_image(self, block: _DataBlockState, encoded: DataBlock) -> None:
        """Give an unpaged ``block`` its image (``encoded``'s bytes) and its elements in it."""
        image = bytearray(encoded.encode(self.params))
        block.image = image
        block.body = memoryview(image)[:-CHECKSUM_SIZE]
        block.elements = block.body[data_block_prefix_size(self.params) :]

    def _hold(self, block: _DataBlockState) -> None:
        """Keep ``block`` in memory (until ``release_below`` passes its end)."""
        info = block.info
        self._data_blocks[(info.index, block.number)] = block
        end = self._idx_blk_elmts + info.start_index + (block.number + 1) * info.data_block_elements
        self._release_at = min(self._release_at, end)

    def _load_data_block(self, info: SuperBlockInfo, number: int) -> _DataBlockState | None:
        """The data block as the file has it, when this index was loaded from a file."""
        if info.index < self.params.index_block_super_blocks:
            address = self._index_data_blocks[info.start_data_block + number]
        else:
            parent = self._super_blocks.get(info.index)
            address = UNDEFINED_ADDRESS if parent is None else parent.data_block_addresses[number]
        if address == UNDEFINED_ADDRESS or self._source is None:
            return None
        block = _DataBlockState(address, info, number, is_new=False, dirty=False)
        if not self.params.is_paged(info):
            self._set_image(block, self._source.read_data_block(address, info))
        return block

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
        index._max_index_set = index._written_max_index = header.max_index_set
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
            self._index_dirty = self._header_dirty = self._super_blocks_dirty = True
        return state

    def _mark_page_initialised(self, info: SuperBlockInfo, number: int, page: int) -> None:
        parent = self._super_blocks[info.index]
        set_page_initialised(parent.bitmap, number * self.params.pages_per_data_block(info) + page)
        parent.dirty = self._super_blocks_dirty = True

    def commit(self, plan: CommitPlan, *, final: bool = False) -> None:
        """Add the writes of every changed block to ``plan``: data blocks and pages (leaves),
        super blocks (parents), the index block, the header (the index's commit point).
        The header's ``max_index_set`` may run ahead of the elements set (``_header_max_index``)
        unless ``final`` (the file's last commit), which writes it exact.

        The bytes of a changed unpaged data block, page and header are the index's own images,
        resealed in place: valid until the next change, so the plan is written before it."""
        if self._dirty_blocks:
            leaves = plan.leaves
            for block in self._dirty_blocks:
                image = block.image
                if image is not None:  # one element more, one checksum
                    reseal_body(image, block.body)  # type: ignore[arg-type]  # set with image
                    leaves.append((block.address, image))
                elif not self._add_one_page(block, leaves):
                    leaves += self._page_writes(block)
                block.is_new = block.dirty = False
            self._dirty_blocks.clear()
        if self._super_blocks_dirty:
            self._commit_super_blocks(plan)
            self._super_blocks_dirty = False
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
        if self._header_dirty or (final and self._written_max_index != self._max_index_set):
            max_index = self._max_index_set if final else self._header_max_index()
            plan.index_headers.append((self.header_address, self._encode_header(max_index)))
            self._written_max_index = max_index
            self._header_dirty = False

    def _commit_super_blocks(self, plan: CommitPlan) -> None:
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

    def _encode_header(self, max_index: int) -> bytearray:
        """``self._header(max_index).encode()``: encoded once, then patched (statistics and
        checksum) in place; the image itself is returned, valid until the next commit patches
        it."""
        image = self._header_image
        if image is None:
            image = self._header_image = bytearray(self._header(max_index).encode())
            return image
        statistics = (*self._stats, max_index, self._realized, self._index_block_address)
        patch_header_statistics(image, statistics)
        return image

    def _add_one_page(self, block: _DataBlockState, leaves: list[Write]) -> bool:
        """``_page_writes`` of a paged block already on disk with one changed page that may be
        rewritten in place (the usual commit), added to ``leaves``; False for anything else."""
        dirty = block.dirty_pages
        if len(dirty) != 1 or block.is_new:
            return False
        (page,) = dirty
        size = self._page_size
        address = block.address + self._first_page + page * size
        on_disk = block.pages_on_disk
        if page in on_disk and address // PAGE_SIZE != (address + size - 1) // PAGE_SIZE:
            return False  # it crosses a page (crosses_page): the block moves first
        buffer = block.pages[page]
        reseal_body(buffer, block.page_bodies[page])
        leaves.append((address, buffer))
        on_disk.add(page)
        dirty.clear()
        return True

    def _page_writes(self, block: _DataBlockState) -> list[Write]:
        """The writes of a changed paged data block: its prefix when new and each changed page
        (resealed in place). A page that was written before and crosses a page boundary is never
        rewritten in place: the whole block moves to fresh space, placed so the page being
        filled starts a page, and its super block points at the new copy. (An unpaged block
        fits in one page and is written whole.)"""
        size = self._page_size
        pages = sorted(block.dirty_pages)  # one changed page in place: _add_one_page, first
        first = block.address + self._first_page
        if any(
            page in block.pages_on_disk and crosses_page(first + page * size, size)
            for page in pages
        ):
            self._move_data_block(block, pages[-1])
            pages = sorted(block.dirty_pages)
            first = block.address + self._first_page
        writes: list[Write] = []
        if block.is_new:
            offset = self.params.data_block_offset(block.info, block.number)
            prefix = DataBlock(self.codec.client_id, self.header_address, offset, b"")
            writes.append((block.address, prefix.encode(self.params)))
        for page in pages:
            buffer = block.pages[page]
            reseal(buffer)
            writes.append((first + page * size, buffer))
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
        parent.dirty = self._super_blocks_dirty = True

    def _move_super_block(self, sblock: _SuperBlockState, size: int) -> None:
        """A super block too big for one page is written anew, never over itself."""
        sblock.address = self._allocator.allocate(size)
        slot = sblock.info.index - self.params.index_block_super_blocks
        self._index_super_blocks[slot] = sblock.address
        self._index_dirty = True

    def release_below(self, index: int) -> None:
        """Forget the elements of data blocks that lie wholly below ``index``.

        The caller promises never to set those elements again, so the writer's memory stays
        bounded by the frames in flight rather than by the frames written. Called at every
        commit, it looks at the blocks only once ``index`` has passed the lowest one's end.
        """
        if index < self._release_at:
            return
        release_at = self._max_elements
        base = self._idx_blk_elmts
        for key, block in list(self._data_blocks.items()):
            info = block.info
            end = base + info.start_index + (block.number + 1) * info.data_block_elements
            if end <= index and not block.dirty:
                del self._data_blocks[key]
                if block is self._span_block:
                    self._set_span(0, 0, bytearray(), None, -1)
            else:
                release_at = min(release_at, end)
        self._release_at = release_at
