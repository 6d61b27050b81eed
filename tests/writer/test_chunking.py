"""Frames to chunks (writer/chunking.py): the grid's derived values, tiles cut as numpy slicing
cuts them (zero-padded at the edges) and merged back, strips, and the dims a user may give."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from h5swmr.errors import InvalidArgumentError
from h5swmr.writer.chunking import ChunkGrid, as_bytes, check_dims


def test_grid_values_are_computed_once_and_right() -> None:
    grid = ChunkGrid((1000, 30), (2, 256, 16), 4)
    assert grid.frames_per_chunk == 2
    assert grid.tile == (256, 16)
    assert grid.tiles_per_dim == (4, 2)
    assert grid.n_tiles == 8
    assert grid.is_tiled
    assert grid.frame_nbytes == 1000 * 30 * 4
    assert grid.slab_nbytes == 256 * 16 * 4
    assert grid.chunk_nbytes == 2 * 256 * 16 * 4
    assert grid == ChunkGrid((1000, 30), (2, 256, 16), 4)
    assert "n_tiles" not in repr(grid)
    assert not ChunkGrid((5,), (1, 5), 1).is_tiled
    assert math.prod(ChunkGrid((5, 5), (3, 2, 2), 1).tiles_per_dim) == 9


@pytest.mark.parametrize("dims", [(8, 12), (9, 13)])  # whole tiles, then padded edge tiles
def test_split_into_a_reused_buffer(dims: tuple[int, int]) -> None:
    grid = ChunkGrid(dims, (1, 4, 4), 2)
    rng = np.random.default_rng(1)
    out = np.full((grid.n_tiles, 1, 4, 4), 7, np.uint16)  # garbage: every byte is overwritten
    for _ in range(3):
        frame = rng.integers(0, 1000, dims, dtype=np.uint16)
        expected = grid.split(frame[np.newaxis])
        assert grid.split(frame[np.newaxis], out) is out
        np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize(
    ("dims", "tile", "min_nbytes"),
    [
        ((64, 64), (16, 16), 2048),  # whole tiles, a strip per tile row
        ((61, 70), (16, 16), 4000),  # padded edges, strips of uneven rows
        ((61, 70), (16, 16), 1 << 40),  # one strip
        ((9, 30, 7), (4, 8, 7), 1),  # rank 3
        ((100,), (32,), 64),  # rank 1, a padded last tile
        ((40, 24), (40, 8), 1),  # one tile row: one strip
    ],
)
def test_strips_cut_what_split_cuts(
    dims: tuple[int, ...], tile: tuple[int, ...], min_nbytes: int
) -> None:
    grid = ChunkGrid(dims, (1, *tile), 2)
    strips = grid.strips(min_nbytes)
    assert strips[0].tiles.start == 0 and strips[-1].tiles.stop == grid.n_tiles
    assert all(a.tiles.stop == b.tiles.start for a, b in itertools.pairwise(strips))
    assert strips[-1].rows.stop == dims[0]
    frame = np.random.default_rng(4).integers(0, 60000, dims, dtype=np.uint16)
    out = np.full((grid.n_tiles, 1, *tile), 7, np.uint16)
    for strip in strips:
        strip.cut(frame, out[strip.tiles])
    np.testing.assert_array_equal(out, grid.split(frame[np.newaxis]))
    if min_nbytes == 1:
        assert len(strips) == grid.tiles_per_dim[0]


def test_contiguous_tiles_are_recognised() -> None:
    assert ChunkGrid((64, 32), (1, 16, 32), 2).tiles_are_contiguous
    assert ChunkGrid((64,), (1, 16), 2).tiles_are_contiguous
    assert ChunkGrid((8, 4, 5), (1, 2, 4, 5), 2).tiles_are_contiguous
    assert not ChunkGrid((65, 32), (1, 16, 32), 2).tiles_are_contiguous  # padded last tile
    assert not ChunkGrid((64, 32), (1, 16, 16), 2).tiles_are_contiguous
    assert not ChunkGrid((8, 4, 5), (1, 2, 2, 5), 2).tiles_are_contiguous


@pytest.mark.parametrize(
    ("dims", "tile"), [((8, 12), (4, 4)), ((9, 13), (4, 5)), ((7,), (3,)), ((5, 6, 7), (2, 6, 3))]
)
def test_tiles_are_slices_padded(dims: tuple[int, ...], tile: tuple[int, ...]) -> None:
    grid = ChunkGrid(dims, (2, *tile), 4)
    frames = np.random.default_rng(2).integers(1, 1 << 30, (2, *dims), dtype="<u4")
    tiles = grid.split(frames)
    assert tiles.shape == (grid.n_tiles, 2, *tile)
    for position, corner in enumerate(itertools.product(*(range(n) for n in grid.tiles_per_dim))):
        region = tuple(slice(c * t, (c + 1) * t) for c, t in zip(corner, tile, strict=True))
        piece = frames[(slice(None), *region)]
        expected = np.zeros((2, *tile), "<u4")
        expected[(slice(None), *(slice(0, n) for n in piece.shape[1:]))] = piece
        np.testing.assert_array_equal(tiles[position], expected)
    np.testing.assert_array_equal(grid.merge(tiles), frames)
    assert grid.chunk_index(3, grid.n_tiles - 1) == 4 * grid.n_tiles - 1


def test_as_bytes_is_the_c_order_bytes() -> None:
    array = np.arange(24, dtype=">i4").reshape(4, 6)
    assert bytes(as_bytes(array)) == array.tobytes()
    strided = array[:, ::2]  # not contiguous: copied
    assert bytes(as_bytes(strided)) == strided.tobytes()
    assert as_bytes(array).format == "B"


def test_dims_a_user_may_give() -> None:
    assert check_dims([3, np.int64(4)], what="frame") == (3, 4)
    assert check_dims((), what="frame", allow_empty=True) == ()
    for bad, message in [
        (5, "frame must be a sequence of integers, not 5"),
        (("a",), "must be a sequence of integers"),
        ((2.0, 3), "frame must hold integers"),
        ((True, 3), "frame must hold integers"),
        ((0, 3), "frame must be positive integers, got \\(0, 3\\)"),
        ((), "frame must be positive integers"),
    ]:
        with pytest.raises(InvalidArgumentError, match=message):
            check_dims(bad, what="frame")


def test_grids_hdf5_cannot_hold_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="chunk \\(1, 4\\) must have 3 dimensions"):
        ChunkGrid((4, 4), (1, 4), 2)
    with pytest.raises(InvalidArgumentError, match="tile \\(8, 4\\) is larger than the frame"):
        ChunkGrid((4, 4), (1, 8, 4), 2)
    with pytest.raises(InvalidArgumentError, match="HDF5 allows at most"):
        ChunkGrid((1,) * 32, (1,) * 33, 1)
    with pytest.raises(InvalidArgumentError, match="HDF5 chunks must be < 4 GiB"):
        ChunkGrid((1 << 16, 1 << 16), (1, 1 << 16, 1 << 16), 1)
