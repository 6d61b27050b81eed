"""The commit's fast paths write exactly the bytes the plain encoders make.

Each cache (the dataset header image, the EA header image, the data-block prefix, the grid's
derived values, the reusable tile buffer) is checked against the slow path it replaces.
"""

from __future__ import annotations

import math
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import SwmrFileWriter
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.extensible_array.blocks import DataBlock, ExtensibleArrayHeader
from h5swmr.format.extensible_array.elements import ChunkRecord, ElementCodec
from h5swmr.format.extensible_array.params import ExtensibleArrayParams
from h5swmr.format.messages.datatype import DatatypeMessage
from h5swmr.storage.allocator import EofAllocator
from h5swmr.writer.chunk_index import ExtensibleArrayIndex, params_for
from h5swmr.writer.chunking import ChunkGrid
from h5swmr.writer.headers import (
    DatasetHeaderImage,
    dataset_fixed_messages,
    dataset_header,
    dataset_header_size,
)


def _index(filtered: bool, page_bits: int | None = None) -> ExtensibleArrayIndex:
    codec = ElementCodec.for_chunks(8192, filtered=filtered)
    params = params_for(codec.element_size)
    if page_bits is not None:
        params = ExtensibleArrayParams(max_dblk_page_nelmts_bits=page_bits)
    return ExtensibleArrayIndex(params, codec, 48, EofAllocator(4096))


@pytest.mark.parametrize("pipeline", [None, FilterPipeline.shuffle_deflate(4)])
def test_dataset_header_image_matches_a_full_encode(pipeline: FilterPipeline | None) -> None:
    grid = ChunkGrid((6, 7), (1, 6, 7), 2)
    index = _index(pipeline is not None)
    fixed = dataset_fixed_messages(
        DatatypeMessage.from_numpy(np.dtype("u2")), grid, pipeline, index
    )
    size = dataset_header_size(fixed, grid.frame_dims)
    image = DatasetHeaderImage(fixed, grid.frame_dims, size)
    for frames, links in [(0, 1), (1, 1), (2, 1), (255, 1), (256, 2), (2**40 + 3, 2), (7, 1)]:
        expected = dataset_header(fixed, grid.frame_dims, frames, links, size).encode()
        assert image.encode(frames, links) == expected


@pytest.mark.parametrize(("filtered", "page_bits"), [(False, None), (True, None), (False, 6)])
def test_index_commit_writes_what_the_block_encoders_make(
    filtered: bool, page_bits: int | None
) -> None:
    index = _index(filtered, page_bits)
    rng = np.random.default_rng(3)
    n = 0
    for batch in (1, 3, 1, 20, 7, 100, 1, 300):
        for i in range(n, n + batch):
            size = int(rng.integers(1, 8000)) if filtered else 0
            index.set(i, ChunkRecord(10_000 + 8192 * i, size, 0))
        n += batch
        data, _, _, header = index.commit()
        # the EA header: the patched image is the dataclass's encoding of the same state
        assert header == [(48, index.header.encode())]
        decoded = ExtensibleArrayHeader.decode(header[0][1])
        assert decoded.max_index_set == n
        for address, block in data:
            state = next((s for s in index._data_blocks.values() if s.address == address), None)
            if state is None or state.elements is None:
                continue  # a page or the prefix of a paged block: encoded as before
            offset = index.params.data_block_offset(state.info, state.number)
            expected = DataBlock(index.codec.client_id, 48, offset, bytes(state.elements))
            assert block == expected.encode(index.params)
    for i in range(n):
        assert index.get(i).address == 10_000 + 8192 * i


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


def test_tiled_frames_written_from_one_buffer_read_back(tmp_path: Path) -> None:
    path = tmp_path / "t.h5"
    rng = np.random.default_rng(2)
    frames = rng.integers(0, 60000, (5, 9, 13), dtype=np.uint16)
    with SwmrFileWriter.create(path) as w:
        a = w.create_streaming_dataset_tiled("a", "u2", (9, 13), (4, 4))
        b = w.create_streaming_dataset_chunked("b", "u2", (9, 13), (3, 4, 4))
        w.start_swmr()
        for frame in frames:
            w.append_frame(a, frame)
            w.append_frame(b, frame)
            w.flush()
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["a"][...], frames)
        np.testing.assert_array_equal(f["b"][...], frames)


def test_superblock_image_matches_a_full_encode() -> None:
    from h5swmr.format.superblock import ConsistencyFlags, Superblock
    from h5swmr.writer.headers import SuperblockImage

    image = SuperblockImage()
    cases = [
        (ConsistencyFlags.WRITE_ACCESS, 48, 200),
        (ConsistencyFlags.WRITE_ACCESS, 4096, 200),
        (ConsistencyFlags.SWMR_WRITING, 5000, 200),
        (ConsistencyFlags.SWMR_WRITING, 2**40, 200),
        (ConsistencyFlags.SWMR_WRITING, 2**40 + 8, 300),
        (ConsistencyFlags.NONE, 7, 300),
    ]
    for flags, eof, root in cases:
        assert image.encode(flags, eof, root) == Superblock(flags, eof, root).encode()
