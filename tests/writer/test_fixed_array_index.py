"""A grid dataset's fixed-array index built in memory (writer/fixed_array_index.py): page sizes,
what each commit writes and in which phase, and the copy of a paged block whose page would tear.
The writes are decoded by the format classes (tested against libhdf5's bytes in tests/format);
grids read by libhdf5 are tests/writer/test_grid_dataset.py."""

from __future__ import annotations

from h5swmr.format.chunk_records import ChunkRecord, ElementCodec
from h5swmr.format.fixed_array import FixedArrayDataBlock, FixedArrayHeader, decode_page
from h5swmr.storage.allocator import PAGE_SIZE, EofAllocator, crosses_page
from h5swmr.writer.commit import CommitPlan
from h5swmr.writer.fixed_array_index import MAX_PAGES, MIN_PAGE_BITS, FixedArrayIndex, page_bits_for

CODEC = ElementCodec.for_chunks(4096, filtered=False)  # 8-byte elements: an address each
HEADER_ADDRESS = 2048


def _index(n_elements: int) -> FixedArrayIndex:
    return FixedArrayIndex(CODEC, n_elements, HEADER_ADDRESS, EofAllocator(PAGE_SIZE))


def _commit(index: FixedArrayIndex) -> CommitPlan:
    plan = CommitPlan()
    index.commit(plan)
    return plan


def _records(elements: bytes) -> list[ChunkRecord]:
    size = CODEC.element_size
    return [CODEC.decode(elements[i : i + size]) for i in range(0, len(elements), size)]


def test_page_sizes() -> None:
    assert page_bits_for(8, 100) == 8  # 2**8 elements fit one 4 KiB page with the block's head
    assert 18 + 4 + (1 << page_bits_for(8, 100)) * 8 <= PAGE_SIZE
    for n in (1000, 100_000, 10_000_000):
        bits = page_bits_for(8, n)
        assert bits >= MIN_PAGE_BITS and n > 1 << bits
        assert -(-n >> bits) <= MAX_PAGES or bits == page_bits_for(8, 100)


def test_an_unpaged_block_then_only_what_changed() -> None:
    index = _index(100)
    index.set(5, ChunkRecord(8192))
    plan = _commit(index)
    (block_write,) = plan.parents
    (header_write,) = plan.index_headers
    assert plan.leaves == [] and header_write[0] == HEADER_ADDRESS
    header = FixedArrayHeader.decode(header_write[1])
    assert header == index.header and header.n_elements == 100 and not header.n_pages
    assert block_write[0] == header.data_block_address
    block = FixedArrayDataBlock.decode(block_write[1], header)
    records = _records(block.elements)
    assert records[5] == ChunkRecord(8192) and not records[4].is_allocated
    assert not crosses_page(block_write[0], len(block_write[1]))  # rewritten in place, untorn
    assert _commit(index).parents == []  # nothing changed: nothing written
    index.set(6, ChunkRecord(12288))
    again = _commit(index)
    assert again.index_headers == [] and [w[0] for w in again.parents] == [block_write[0]]
    assert index.get(6) == ChunkRecord(12288) and not index.get(7).is_allocated


def test_pages_first_then_the_bitmap_and_the_header_once() -> None:
    index = _index(5000)
    header = index.header
    assert header.n_pages > 1
    last = header.n_elements - 1
    index.set(0, ChunkRecord(1 << 20))
    index.set(last, ChunkRecord(2 << 20))
    plan = _commit(index)
    assert [w[0] for w in plan.leaves] == [
        header.page_address(0),
        header.page_address(header.n_pages - 1),
    ]
    first_page = decode_page(plan.leaves[0][1], header.page_size(0))
    assert _records(first_page)[0] == ChunkRecord(1 << 20)
    (bitmap_write,) = plan.parents
    bitmap = FixedArrayDataBlock.decode(bitmap_write[1], header).page_bitmap
    initialised = [p for p in range(header.n_pages) if bitmap[p // 8] & (0x80 >> (p % 8))]
    assert initialised == [0, header.n_pages - 1]
    assert len(plan.index_headers) == 1
    index.set(1, ChunkRecord(3 << 20))  # page 0 again, the bitmap unchanged
    again = _commit(index)
    assert [w[0] for w in again.leaves] == [header.page_address(0)]
    assert again.parents == [] and again.index_headers == []


def test_a_page_that_would_tear_moves_the_whole_block() -> None:
    index = _index(5000)
    header = index.header
    torn = next(
        p
        for p in range(header.n_pages)
        if crosses_page(header.page_address(p), header.page_size(p))
    )
    element = torn * header.page_elements
    index.set(element, ChunkRecord(1 << 20))
    index.set(0, ChunkRecord(2 << 20))
    _commit(index)  # first write: new space, nothing to tear
    index.set(element, ChunkRecord(3 << 20))
    plan = _commit(index)
    moved = index.header
    assert moved.data_block_address != header.data_block_address
    assert moved.data_block_address % PAGE_SIZE == 0  # the bitmap starts a page
    assert len(plan.leaves) == 2  # every page the block holds, at the new place
    assert all(address >= moved.data_block_address for address, _ in plan.leaves)
    (header_write,) = plan.index_headers
    assert FixedArrayHeader.decode(header_write[1]) == moved
    assert index.get(element) == ChunkRecord(3 << 20) and index.get(0) == ChunkRecord(2 << 20)
