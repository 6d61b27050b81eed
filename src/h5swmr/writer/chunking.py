"""Frames to chunks: tiles of a frame and bands of several frames, zero-padded at the edges."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from h5swmr.errors import InvalidArgumentError
from h5swmr.format.chunk_records import MAX_CHUNK_BYTES

MAX_RANK = 32
"""HDF5's limit on dataset rank; a frame has one dimension less."""


def as_bytes(array: np.ndarray) -> memoryview:
    """The bytes of an array in C order, whatever its dtype, as a flat memoryview of format "B".

    A C-contiguous array (every frame, every tile cut) is cast in place, a third of the cost of
    going through numpy views (this runs once a frame); anything else goes through a copy."""
    try:  # a cast needs a C-contiguous buffer: anything else raises, as a dtype without one
        return memoryview(array).cast("B")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        pass
    flat: np.ndarray = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    return memoryview(flat)  # type: ignore[arg-type]


def check_dims(dims: object, *, what: str, allow_empty: bool = False) -> tuple[int, ...]:
    """Positive integer dims; ``allow_empty`` admits ``()``, a frame of one value."""
    try:
        values = tuple(int(d) for d in dims)  # type: ignore[attr-defined]
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"{what} must be a sequence of integers, not {dims!r}") from exc
    if any(isinstance(d, bool | float) for d in dims):  # type: ignore[attr-defined]
        raise InvalidArgumentError(f"{what} must hold integers, not {dims!r}")
    if (not values and not allow_empty) or any(v <= 0 for v in values):
        raise InvalidArgumentError(f"{what} must be positive integers, got {dims!r}")
    return values


@dataclass(frozen=True, slots=True)
class Strip:
    """Consecutive rows of tiles of a frame: the frame rows they cover, their place among the
    frame's tiles (row-major), and the grid that tiles just those rows."""

    rows: slice
    tiles: slice
    grid: ChunkGrid

    def cut(self, frame: np.ndarray, out: np.ndarray) -> None:
        """This strip's tiles of one ``frame`` into ``out``, shaped ``(tiles, 1, *tile)``."""
        rows = frame[self.rows]
        height = self.grid.frame_dims[0]
        if rows.shape[0] != height:  # the frame's last tile row, zero-padded to full tiles
            padded = np.zeros((height, *rows.shape[1:]), rows.dtype)
            padded[: rows.shape[0]] = rows
            rows = padded
        self.grid.split(rows[np.newaxis], out)


@dataclass(frozen=True, slots=True)
class ChunkGrid:
    """How a dataset of frames ``frame_dims`` is cut into chunks ``(frames_per_chunk, *tile)``.

    Everything derived from the three fields is computed once, here: the append path reads these
    values several times per frame.
    """

    frame_dims: tuple[int, ...]
    chunk: tuple[int, ...]
    itemsize: int
    frames_per_chunk: int = field(init=False, repr=False, compare=False)
    tile: tuple[int, ...] = field(init=False, repr=False, compare=False)
    tiles_per_dim: tuple[int, ...] = field(init=False, repr=False, compare=False)
    n_tiles: int = field(init=False, repr=False, compare=False)
    is_tiled: bool = field(init=False, repr=False, compare=False)
    tiles_are_contiguous: bool = field(init=False, repr=False, compare=False)
    """Each tile of a frame is one contiguous run of the frame (whole rows, no padding): the
    frame's bytes are its tiles' bytes, in order, and need no cutting."""
    frame_nbytes: int = field(init=False, repr=False, compare=False)
    slab_nbytes: int = field(init=False, repr=False, compare=False)
    """Bytes one frame takes inside one chunk."""
    chunk_nbytes: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rank = len(self.frame_dims)
        if rank + 1 > MAX_RANK:
            raise InvalidArgumentError(f"frames of rank {rank}: HDF5 allows at most {MAX_RANK - 1}")
        if len(self.chunk) != rank + 1:
            raise InvalidArgumentError(
                f"chunk {self.chunk} must have {rank + 1} dimensions for frames {self.frame_dims}"
            )
        if any(t > f for t, f in zip(self.chunk[1:], self.frame_dims, strict=True)):
            raise InvalidArgumentError(
                f"tile {self.chunk[1:]} is larger than the frame {self.frame_dims}"
            )
        tile = self.chunk[1:]
        tiles_per_dim = tuple(-(-f // t) for f, t in zip(self.frame_dims, tile, strict=True))
        derived = {
            "frames_per_chunk": self.chunk[0],
            "tile": tile,
            "tiles_per_dim": tiles_per_dim,
            "n_tiles": math.prod(tiles_per_dim),
            "is_tiled": tile != self.frame_dims,
            "tiles_are_contiguous": tile[1:] == self.frame_dims[1:]
            and (not tile or self.frame_dims[0] % tile[0] == 0),
            "frame_nbytes": math.prod(self.frame_dims) * self.itemsize,
            "slab_nbytes": math.prod(tile) * self.itemsize,
            "chunk_nbytes": math.prod(self.chunk) * self.itemsize,
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)
        if self.chunk_nbytes > MAX_CHUNK_BYTES:
            raise InvalidArgumentError(
                f"chunk {self.chunk} holds {self.chunk_nbytes} bytes; HDF5 chunks must be < 4 GiB"
            )

    def chunk_index(self, band: int, tile: int) -> int:
        """Linear chunk index (the extensible array element) of a tile in a band of frames."""
        return band * self.n_tiles + tile

    def split(self, frames: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Frames ``(n, *frame_dims)`` as ``(n_tiles, n, *tile)``, tiles in row-major order and
        zero-padded where the frame is not a multiple of the tile.

        With ``out`` (C-contiguous, ``(n_tiles, n, *tile)``, the frames' dtype) the tiles are
        copied into it and it is returned: a writer that reuses one buffer saves an allocation
        and the page faults of fresh memory per frame. Every byte of ``out`` is overwritten.
        """
        n = frames.shape[0]
        if not self.is_tiled:
            if out is None:
                return frames.reshape((1, n, *self.frame_dims))
            np.copyto(out.reshape(frames.shape), frames)
            return out
        padded_dims = tuple(c * t for c, t in zip(self.tiles_per_dim, self.tile, strict=True))
        if padded_dims != self.frame_dims:
            padded = np.zeros((n, *padded_dims), frames.dtype)
            padded[(slice(None), *(slice(0, f) for f in self.frame_dims))] = frames
            frames = padded
        rank = len(self.frame_dims)
        split_shape: list[int] = [n]
        for count, size in zip(self.tiles_per_dim, self.tile, strict=True):
            split_shape += [count, size]
        blocks = frames.reshape(split_shape)
        order = [1 + 2 * i for i in range(rank)] + [0] + [2 + 2 * i for i in range(rank)]
        shape = (self.n_tiles, n, *self.tile)
        if out is None:
            return np.ascontiguousarray(blocks.transpose(order)).reshape(shape)
        np.copyto(out.reshape(blocks.transpose(order).shape), blocks.transpose(order))
        return out

    def strips(self, min_nbytes: int) -> list[Strip]:
        """A tiled frame as strips of whole tile rows holding at least ``min_nbytes`` of tiles
        each (one strip for a smaller frame), to be tiled and written strip by strip."""
        rows = self.tiles_per_dim[0]
        per_row = self.n_tiles // rows
        count = max(1, min(rows, self.n_tiles * self.slab_nbytes // max(min_nbytes, 1)))
        bounds = [rows * i // count for i in range(count + 1)]
        height = self.tile[0]
        strips = []
        for first, last in itertools.pairwise(bounds):
            dims = ((last - first) * height, *self.frame_dims[1:])
            strips.append(
                Strip(
                    slice(first * height, min(last * height, self.frame_dims[0])),
                    slice(first * per_row, last * per_row),
                    ChunkGrid(dims, (1, *self.tile), self.itemsize),
                )
            )
        return strips

    def merge(self, tiles: np.ndarray) -> np.ndarray:
        """Undo ``split``: tiles ``(n_tiles, n, *tile)`` back into frames ``(n, *frame_dims)``."""
        n = tiles.shape[1]
        if not self.is_tiled:
            return tiles.reshape((n, *self.frame_dims))
        rank = len(self.frame_dims)
        blocks = tiles.reshape((*self.tiles_per_dim, n, *self.tile))
        order = [rank] + [
            i for pair in zip(range(rank), range(rank + 1, 2 * rank + 1), strict=True) for i in pair
        ]
        padded_dims = tuple(c * t for c, t in zip(self.tiles_per_dim, self.tile, strict=True))
        padded = blocks.transpose(order).reshape((n, *padded_dims))
        return np.ascontiguousarray(padded[(slice(None), *(slice(0, f) for f in self.frame_dims))])
