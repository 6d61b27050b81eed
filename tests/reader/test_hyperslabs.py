"""Selections as products of per-dimension positions (reader/hyperslabs.py): the elements, in
order, are the ones libhdf5 selects for the same hyperslab or block list (h5py's low-level
H5Sselect_hyperslab and H5Dread); unlimited selections clipped to what an extent holds; selections
that are no product refused."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.constants import UNLIMITED
from h5swmr.format.selection import (
    AllSelection,
    HyperslabBlockList,
    HyperslabSelection,
    NoneSelection,
    Selection,
)
from h5swmr.reader.hyperslabs import (
    axes_of,
    bounds_end,
    clip_extent,
    shape_of,
    slices_below,
)

DIMS = (20, 17)
Block = tuple[tuple[int, int], tuple[int, int]]


@pytest.fixture(scope="module")
def numbered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset whose every element holds its own row-major position."""
    path = tmp_path_factory.mktemp("hyperslabs") / "numbered.h5"
    with h5py.File(path, "w") as f:
        f["d"] = np.arange(np.prod(DIMS), dtype="i8").reshape(DIMS)
    return path


def _libhdf5_selects(path: Path, blocks: list[tuple[tuple[int, ...], ...]]) -> np.ndarray:
    """The elements libhdf5 reads for the union of hyperslabs (start, count, stride, block)."""
    with h5py.File(path, "r") as f:
        dataset = f["d"].id
        space = dataset.get_space()
        for position, (start, count, stride, block) in enumerate(blocks):
            op = h5py.h5s.SELECT_SET if position == 0 else h5py.h5s.SELECT_OR
            space.select_hyperslab(start, count, stride, block, op=op)
        out = np.empty(space.get_select_npoints(), "i8")
        dataset.read(h5py.h5s.create_simple(out.shape), space, out)
    return out


def _ours(selection: Selection) -> np.ndarray:
    axes = axes_of(selection, DIMS)
    rows, cols = (axis.positions(0, axis.size) for axis in axes)
    assert shape_of(axes) == (len(rows), len(cols))
    return np.ravel_multi_index(np.ix_(rows, cols), DIMS).ravel()


@pytest.mark.parametrize(
    ("start", "stride", "count", "block"),
    [
        ((0, 0), (1, 1), (20, 17), (1, 1)),
        ((3, 2), (4, 5), (4, 3), (2, 3)),
        ((1, 16), (7, 1), (3, 1), (1, 1)),
        ((5, 0), (1, 6), (1, 3), (10, 5)),
    ],
)
def test_regular_hyperslabs_select_what_libhdf5_selects(
    numbered: Path,
    start: tuple[int, int],
    stride: tuple[int, int],
    count: tuple[int, int],
    block: tuple[int, int],
) -> None:
    selection = HyperslabSelection(start, stride, count, block)
    want = _libhdf5_selects(numbered, [(start, count, stride, block)])
    np.testing.assert_array_equal(_ours(selection), want)
    ends = bounds_end(selection)
    assert ends == tuple(
        s + (c - 1) * st + b for s, st, c, b in zip(start, stride, count, block, strict=True)
    )


def test_a_block_list_that_is_a_product(numbered: Path) -> None:
    rows, cols = [(1, 3), (8, 8), (12, 15)], [(0, 1), (10, 16)]
    blocks: list[Block] = [((r0, c0), (r1, c1)) for r0, r1 in rows for c0, c1 in cols]
    want = _libhdf5_selects(
        numbered,
        [
            ((lo[0], lo[1]), (1, 1), (1, 1), (hi[0] - lo[0] + 1, hi[1] - lo[1] + 1))
            for lo, hi in blocks
        ],
    )
    np.testing.assert_array_equal(_ours(HyperslabBlockList(tuple(blocks))), want)


def test_all_and_none() -> None:
    assert shape_of(axes_of(AllSelection(), DIMS)) == DIMS
    assert shape_of(axes_of(NoneSelection(), DIMS)) == (0, 0)
    assert bounds_end(AllSelection()) is None


def test_unlimited_selections_clipped_to_the_slices_an_extent_holds() -> None:
    """Blocks of 2 every 5 from row 3, unlimited: an extent of 14 holds rows 3, 4, 8, 9, 13."""
    selection = HyperslabSelection((3, 0), (5, 1), (UNLIMITED, 1), (2, 17))
    assert slices_below(selection, 0, 14) == 5
    assert slices_below(selection, 0, 3) == 0
    assert clip_extent(selection, 0, 5) == 14 and clip_extent(selection, 0, 4) == 10
    rows = axes_of(selection, DIMS, slices=5)[0]
    assert rows.positions(0, rows.size).tolist() == [3, 4, 8, 9, 13]
    assert bounds_end(selection) == (None, 17)
    with pytest.raises(FormatError, match="an unlimited selection where a limited one is required"):
        axes_of(selection, DIMS)


def test_selections_that_are_no_product_or_do_not_fit_are_refused() -> None:
    staircase = HyperslabBlockList((((0, 0), (1, 1)), ((2, 2), (3, 3))))
    with pytest.raises(UnsupportedError, match="no product of ranges"):
        axes_of(staircase, DIMS)
    with pytest.raises(FormatError, match="a selection of rank 2 in a dataspace of rank 3"):
        axes_of(HyperslabSelection((0, 0), (1, 1), (1, 1), (1, 1)), (*DIMS, 2))
    with pytest.raises(UnsupportedError, match="past position"):
        axes_of(HyperslabSelection((1 << 62, 0), (1, 1), (1, 1), (2, 1)), (1 << 63, 1))
