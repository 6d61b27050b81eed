"""EofAllocator: append-only, and blocks that fit a page never straddle a page boundary."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from h5swmr.storage.allocator import PAGE_SIZE, EofAllocator


def test_appends_at_the_end() -> None:
    a = EofAllocator(48)
    assert a.allocate(100) == 48
    assert a.allocate(0) == 148
    assert a.allocate(8) == 148
    assert a.eoa == 156


def test_within_page() -> None:
    a = EofAllocator(4050)
    assert a.allocate(72, within_page=True) == 4096  # 4050 + 72 would cross 4096
    assert a.eoa == 4096 + 72
    assert a.allocate(PAGE_SIZE - 72, within_page=True) == 4096 + 72  # ends exactly on 8192
    assert a.allocate(PAGE_SIZE, within_page=True) == 8192  # a whole page, already aligned
    b = EofAllocator(10)
    assert b.allocate(PAGE_SIZE, within_page=True) == PAGE_SIZE  # a whole page moves up
    c = EofAllocator(10)
    assert c.allocate(PAGE_SIZE + 1, within_page=True) == 10  # too big for one page: no move
    assert EofAllocator(4050).allocate(72) == 4050  # without the rule, no move
    assert EofAllocator(4000).allocate(72, within_page=True) == 4000  # fits before 4096


def test_negative_size_rejected() -> None:
    a = EofAllocator(48)
    with pytest.raises(ValueError, match="-1"):
        a.allocate(-1)
    assert a.eoa == 48


@given(
    st.integers(0, 3 * PAGE_SIZE),
    st.lists(st.tuples(st.integers(0, 2 * PAGE_SIZE), st.booleans()), max_size=40),
)
def test_allocations_never_overlap(start: int, requests: list[tuple[int, bool]]) -> None:
    a = EofAllocator(start)
    end = start
    for size, within_page in requests:
        address = a.allocate(size, within_page=within_page)
        assert address >= end  # fresh space only, never reused
        if within_page and size <= PAGE_SIZE:
            assert address // PAGE_SIZE == (address + max(size, 1) - 1) // PAGE_SIZE
            assert address - end < PAGE_SIZE  # skips at most the rest of one page
        else:
            assert address == end
        end = address + size
        assert a.eoa == end


@given(
    st.integers(0, 3 * PAGE_SIZE),
    st.integers(1, 10_000),
    st.sampled_from([1, 512, 4096, 1 << 20]),
    st.lists(st.tuples(st.integers(0, 3 * PAGE_SIZE), st.booleans()), max_size=40),
)
def test_alignment(
    start: int, threshold: int, interval: int, requests: list[tuple[int, bool]]
) -> None:
    """Blocks of at least ``threshold`` bytes start on ``interval`` boundaries; blocks placed
    within a page (rewritten in place) keep that rule first, so no rewrite can tear."""
    a = EofAllocator(start, align_threshold=threshold, align_interval=interval)
    end = start
    for size, within_page in requests:
        address = a.allocate(size, within_page=within_page)
        assert address >= end
        if within_page and size <= PAGE_SIZE:
            assert address // PAGE_SIZE == (address + max(size, 1) - 1) // PAGE_SIZE
        elif size >= threshold:
            assert address % interval == 0 and address - end < interval
        else:
            assert address == end
        end = address + size
        assert a.eoa == end


def test_allocate_pages_starts_and_ends_on_pages() -> None:
    a = EofAllocator(48)
    assert a.allocate_pages(5000) == PAGE_SIZE
    assert a.eoa == 3 * PAGE_SIZE  # 5000 bytes take two pages
    assert a.allocate_pages(PAGE_SIZE) == 3 * PAGE_SIZE
    assert a.eoa == 4 * PAGE_SIZE  # a whole page: no padding
    assert a.allocate(10) == 4 * PAGE_SIZE  # the next block starts after the padding
    b = EofAllocator(48, align_threshold=1000, align_interval=3 * PAGE_SIZE)
    assert b.allocate_pages(999) == PAGE_SIZE  # under the threshold: a page
    assert b.allocate_pages(1000) == 3 * PAGE_SIZE  # both the interval and a page
    c = EofAllocator(48, align_threshold=1, align_interval=6000)
    assert c.allocate_pages(1) == 1_536_000  # a multiple of both: lcm(4096, 6000)
    with pytest.raises(ValueError, match="-1"):
        c.allocate_pages(-1)
