"""Extensible array geometry with libhdf5's default parameters (32, 4, 4, 16, 10)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from h5swmr.errors import FormatError
from h5swmr.format.extensible_array.params import ExtensibleArrayParams

P = ExtensibleArrayParams()

# (super block, data blocks, elements per data block) from the design doc's table
TABLE = [
    (0, 1, 16), (1, 1, 32), (2, 2, 32), (3, 2, 64), (4, 4, 64), (5, 4, 128), (6, 8, 128),
    (7, 8, 256), (8, 16, 256), (9, 16, 512), (10, 32, 512), (11, 32, 1024), (12, 64, 1024),
    (13, 64, 2048),
]  # fmt: skip


def test_derived_constants() -> None:
    assert P.n_super_blocks == 29
    assert P.array_offset_size == 4
    assert P.page_elements == 1024
    assert P.index_block_super_blocks == 4
    assert P.index_block_data_block_addresses == 6
    assert P.index_block_super_block_addresses == 25
    assert P.max_elements == 2**32


def test_super_block_table() -> None:
    start = data_blocks = 0
    for s, n, nelmts in TABLE:
        info = P.super_block(s)
        assert (info.index, info.n_data_blocks, info.data_block_elements) == (s, n, nelmts)
        assert info.start_index == start
        assert info.start_data_block == data_blocks
        assert P.is_paged(info) == (s >= 13)
        start += n * nelmts
        data_blocks += n
    assert len(P.super_blocks()) == 29
    assert [P.super_block(s).start_index for s in range(29)] == [16 * (2**s - 1) for s in range(29)]
    # the super blocks hold every element an array of 2**32 can have, past the index block's 4
    last = P.super_block(28)
    assert last.start_index + last.n_data_blocks * last.data_block_elements >= 2**32 - 4


def test_paging_threshold() -> None:
    info, block, within = P.locate(131_059)
    assert (info.index, P.is_paged(info)) == (12, False)
    assert (block, within) == (63, 1023)
    info, block, within = P.locate(131_060)
    assert (info.index, info.start_index, block, within) == (13, 131_056, 0, 0)
    assert P.is_paged(info)
    assert P.pages_per_data_block(info) == 2
    assert P.pages_per_data_block(P.super_block(12)) == 0
    assert P.pages_per_data_block(P.super_block(28)) == 2**14 * 16 // 1024


def test_block_offset_quirk() -> None:
    offsets = [
        P.data_block_offset(P.super_block(s), d)
        for s in range(P.index_block_super_blocks)
        for d in range(P.super_block(s).n_data_blocks)
    ]
    assert offsets == [0, 48, 112, 144, 368, 432]
    info = P.super_block(4)  # under an EASB: the block's own position in its super block
    assert [P.data_block_offset(info, d) for d in range(4)] == [240, 304, 368, 432]


def test_locate_first_elements() -> None:
    for element in range(4):
        with pytest.raises(FormatError):
            P.locate(element)  # those live in the index block
    with pytest.raises(FormatError):
        P.locate(2**32)
    assert [P.locate(e)[0].index for e in (4, 19, 20, 51, 52)] == [0, 0, 1, 1, 2]


@given(st.integers(4, 2**32 - 1))
def test_locate_is_consistent(element: int) -> None:
    info, block, within = P.locate(element)
    assert 0 <= block < info.n_data_blocks
    assert 0 <= within < info.data_block_elements
    assert info.start_index + block * info.data_block_elements + within == element - 4


@pytest.mark.parametrize(
    "args",
    [(0, 4, 4, 16, 10), (65, 4, 4, 16, 10), (32, 0, 4, 16, 10), (32, 4, 3, 16, 10),
     (32, 4, 1, 16, 10), (32, 4, 4, 24, 10), (32, 4, 4, 0, 10), (32, 4, 4, 16, 0),
     (32, 4, 4, 16, 33), (8, 4, 4, 256, 4)],
)  # fmt: skip
def test_invalid_parameters(args: tuple[int, ...]) -> None:
    with pytest.raises(FormatError):
        ExtensibleArrayParams(*args)


@given(
    st.integers(8, 64),
    st.sampled_from([2, 4, 8, 16]),
    st.sampled_from([1, 2, 4, 16, 64]),
)
def test_other_parameters_cover_the_array(bits: int, sblk_min: int, dblk_min: int) -> None:
    n_super_blocks = 1 + bits - (dblk_min.bit_length() - 1)
    assume(n_super_blocks >= 2 * (sblk_min.bit_length() - 1))  # else refused, as tested below
    p = ExtensibleArrayParams(bits, 4, sblk_min, dblk_min, min(10, bits))
    infos = p.super_blocks()
    assert len(infos) == p.n_super_blocks
    assert sum(i.n_data_blocks for i in infos[: p.index_block_super_blocks]) == (
        p.index_block_data_block_addresses
    )
    last = infos[-1]
    assert last.start_index + last.n_data_blocks * last.data_block_elements >= 2**bits - 4


def test_too_few_super_blocks_for_the_index_block() -> None:
    with pytest.raises(FormatError):
        ExtensibleArrayParams(8, 4, 4, 64, 8)  # 1 + 8 - 6 = 3 super blocks
